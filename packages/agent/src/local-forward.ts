/**
 * The `forward` service, client side: a local TCP listener whose every connection becomes
 * one stream (one RTCDataChannel) to an exposed target of the agent. The socket stays
 * paused until the agent says `opened`, so nothing is read that could not be delivered.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { RemotePeer } from '@pinhole/node';
import { DEFAULT_STREAM_OPEN_TIMEOUT_MS, FORWARD_LABEL_PREFIX, FORWARD_PROTOCOL } from './defaults.js';
import { AgentError } from './errors.js';
import { silentLogger, type AgentLogger } from './logger.js';
import { StreamBridge, resolveStreamOptions, type StreamOptions, type StreamResult } from './stream.js';
import { encodeStreamControl, parseStreamControl } from './stream-wire.js';

export interface LocalForwardOptions {
  /** Local port (0: a free one) and address (default 127.0.0.1). */
  port: number;
  host?: string;
  /** The agent's exposed target name. */
  target: string;
  /** The agent's peer now (it may leave and come back with another id). */
  peer: () => RemotePeer | undefined;
  stream?: StreamOptions;
  openTimeoutMs?: number;
  logger?: AgentLogger;
}

export class LocalForward {
  readonly #server: Server;
  readonly #streams = new Set<{ reset(reason: string): void }>();
  readonly #options: LocalForwardOptions;
  #next = 1;
  /** Every stream's outcome (tests, stats). */
  readonly results: StreamResult[] = [];

  private constructor(server: Server, options: LocalForwardOptions) {
    this.#server = server;
    this.#options = options;
  }

  static async listen(options: LocalForwardOptions): Promise<LocalForward> {
    const server = createServer({ allowHalfOpen: true, pauseOnConnect: true });
    const forward = new LocalForward(server, options);
    server.on('connection', (socket) => forward.#accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    return forward;
  }

  get address(): AddressInfo {
    return this.#server.address() as AddressInfo;
  }

  /** Stops listening and resets every open stream. */
  async close(): Promise<void> {
    for (const s of this.#streams) s.reset('forward closed');
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(socket: Socket): void {
    const logger = this.#options.logger ?? silentLogger;
    const id = `${process.pid.toString(36)}-${(this.#next++).toString(36)}`;
    const log = { stream: id, target: this.#options.target };
    socket.setNoDelay(true);
    let dc: RTCDataChannel | undefined;
    const pending = {
      reset: (reason: string) => fail(new AgentError('closed', reason)),
    };
    const fail = (error: AgentError) => {
      if (!this.#streams.delete(pending)) return;
      clearTimeout(timer);
      logger.warn({ ...log, code: error.code, err: error.message }, 'forward stream not opened');
      this.results.push({ ok: false, bytesIn: 0, bytesOut: 0, error });
      dc?.close();
      if (!socket.destroyed) socket.resetAndDestroy();
    };
    this.#streams.add(pending);
    const timeoutMs = this.#options.openTimeoutMs ?? DEFAULT_STREAM_OPEN_TIMEOUT_MS;
    const timer = setTimeout(() => fail(new AgentError('timeout', `the agent did not open the stream within ${timeoutMs} ms`)), timeoutMs);
    socket.on('error', () => fail(new AgentError('socket-error', 'local socket failed before the stream opened')));
    const peer = this.#options.peer();
    const connection = peer?.connection;
    if (!connection || connection.connectionState !== 'connected') {
      return fail(new AgentError('no-agent', 'the agent is not connected'));
    }
    try {
      dc = connection.createDataChannel(FORWARD_LABEL_PREFIX + id, { ordered: true, protocol: FORWARD_PROTOCOL });
    } catch (err) {
      return fail(new AgentError('no-agent', `cannot open a data channel: ${(err as Error).message}`, { cause: err }));
    }
    const channel = dc;
    channel.binaryType = 'arraybuffer';
    channel.addEventListener('open', () => channel.send(encodeStreamControl({ t: 'open', target: this.#options.target })));
    channel.addEventListener('close', () => fail(new AgentError('stream-lost', 'the data channel closed before the stream opened')));
    const onFirst = (event: Event) => {
      channel.removeEventListener('message', onFirst);
      const data = (event as MessageEvent).data;
      let reply;
      try {
        if (typeof data !== 'string') throw new AgentError('bad-message', 'binary data before opened');
        reply = parseStreamControl(data);
      } catch (err) {
        return fail(err as AgentError);
      }
      if (reply.t === 'reset') return fail(new AgentError(codeOf(reply.code), `agent refused the stream: ${reply.message}`));
      if (reply.t !== 'opened') return fail(new AgentError('bad-message', `expected opened, got ${reply.t}`));
      clearTimeout(timer);
      this.#streams.delete(pending);
      socket.removeAllListeners('error');
      const bridge = new StreamBridge(channel, socket, resolveStreamOptions(this.#options.stream));
      this.#streams.add(bridge);
      logger.debug(log, 'forward stream open');
      void bridge.done.then((r) => {
        this.#streams.delete(bridge);
        this.results.push(r);
        const fields = { ...log, bytesOut: r.bytesOut, bytesIn: r.bytesIn };
        if (r.ok) logger.debug(fields, 'forward stream ended');
        else logger.info({ ...fields, code: r.error?.code, err: r.error?.message }, 'forward stream reset');
      });
    };
    channel.addEventListener('message', onFirst);
  }
}

function codeOf(code: string): AgentError['code'] {
  const refusals: readonly string[] = ['unknown-target', 'connect-failed', 'bad-message', 'timeout'];
  return refusals.includes(code) ? (code as AgentError['code']) : 'stream-lost';
}
