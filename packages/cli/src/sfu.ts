/**
 * The media server of `pinhole serve` (docs/protocol/sfu.md §15.5): ONE Sfu, shared by the WHIP
 * gateway and the SFU service member of the hub's rooms. Its modules (werift, node-datachannel,
 * the client SDK) take 0.4–1 s to load, most of it one synchronous evaluation that stalls the
 * event loop, so they are imported only when first needed: when the hub gets its first room
 * (the SFU then joins it), or on the first WHIP request. Serve starts and answers as fast as
 * without them. (A hub on Redis cannot count rooms cheaply: there the SFU would start at once;
 * serve does not embed it then, see serve.ts.)
 */
import type { Logger } from 'pino';
import type { Sfu, SfuLimits, SfuOptions, SfuService } from '@pinhole/sfu';
import type { RunningHub } from '@pinhole/server';
import type { mediaServer, Values } from './options.js';

/** The SFU's options from the media server flags (`--sfu-ports`, `--sfu-announce`, `--sfu-max-*`); unset ones are left out. */
export function sfuOptionsOf(values: Values<typeof mediaServer>): SfuOptions {
  const limits: Partial<SfuLimits> = {};
  if (values.sfuMaxPublishersPerRoom !== undefined) limits.publishersPerRoom = values.sfuMaxPublishersPerRoom;
  if (values.sfuMaxSubscribersPerRoom !== undefined) limits.subscribersPerRoom = values.sfuMaxSubscribersPerRoom;
  if (values.sfuMaxRooms !== undefined) limits.rooms = values.sfuMaxRooms;
  if (values.sfuMaxForwardedStreams !== undefined) limits.forwardedStreams = values.sfuMaxForwardedStreams;
  return {
    ...(values.sfuPorts === undefined ? {} : { portRange: values.sfuPorts }),
    ...(values.sfuAnnounce === undefined ? {} : { announcedAddress: values.sfuAnnounce }),
    ...(Object.keys(limits).length === 0 ? {} : { limits }),
  };
}

export interface EmbeddedSfu {
  /** The one Sfu, loaded on first use. */
  sfu(): Promise<Sfu>;
  /** The Sfu if it is loaded (metrics read it without loading it). */
  loaded(): Sfu | undefined;
  /**
   * Starts the SFU as a service member of `hub` in the background: it dials the hub's own
   * URL over loopback with a service token the hub mints (in dev mode with its private key).
   * Resolves once it is in (tests); serve does not wait for it.
   */
  serve(hub: RunningHub): Promise<SfuService | undefined>;
  /** `serve(hub)` once the hub has a room (checked every ROOM_POLL_MS); at once if it cannot tell. */
  serveWhenNeeded(hub: RunningHub): Promise<SfuService | undefined>;
  close(): Promise<void>;
}

/** How often serve looks whether its hub has a room yet (before the SFU is loaded). */
export const ROOM_POLL_MS = 250;

export function embeddedSfu(logger: Logger, options: SfuOptions = {}): EmbeddedSfu {
  let waiting: { timer: ReturnType<typeof setInterval>; resolve: (service: undefined) => void } | undefined;
  let loading: Promise<{ sfu: Sfu; module: typeof import('@pinhole/sfu') }> | undefined;
  let loaded: Sfu | undefined;
  let service: SfuService | undefined;
  let closed = false;
  const load = (): Promise<{ sfu: Sfu; module: typeof import('@pinhole/sfu') }> =>
    (loading ??= import('@pinhole/sfu').then((module) => ({ sfu: (loaded = new module.Sfu(options)), module })));
  return {
    sfu: async () => (await load()).sfu,
    loaded: () => loaded,
    async serve(hub) {
      const { sfu, module } = await load();
      if (closed) return undefined;
      const log = logger.child({ component: 'sfu' });
      const started = new module.SfuService({
        hub: hub.url,
        token: () => hub.serviceToken('sfu'),
        sfu,
        // Our own hub over loopback: its certificate may name a public host only.
        insecure: true,
        proxy: false,
        logger: { info: (fields, message) => log.info(fields, message), warn: (fields, message) => log.warn(fields, message) },
      });
      service = started;
      await started.start();
      if (closed) await started.close();
      return closed ? undefined : started;
    },
    serveWhenNeeded(hub) {
      const rooms = (): number | undefined => hub.hub.stats().rooms;
      if (rooms() === undefined) return this.serve(hub);
      return new Promise((resolve, reject) => {
        const timer = setInterval(() => {
          if (rooms() === 0) return;
          clearInterval(timer);
          waiting = undefined;
          this.serve(hub).then(resolve, reject);
        }, ROOM_POLL_MS);
        waiting = { timer, resolve };
      });
    },
    async close() {
      closed = true;
      if (waiting) {
        clearInterval(waiting.timer);
        waiting.resolve(undefined);
        waiting = undefined;
      }
      await service?.close().catch(() => undefined);
      if (loading) (await loading.catch(() => undefined))?.sfu.close();
    },
  };
}
