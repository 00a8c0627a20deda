/**
 * The SFU as a service member of a real hub, and plain hub members that record what the SFU
 * says to them: for the service tests (service-speaker, service-viewers).
 */
import { HubSignaler, nodePlatform, type Json } from '@pinhole/node';
import { startTestHub } from '@pinhole/test-kit/hub';
import type { RunningHub } from '@pinhole/server';
import { Sfu, SfuService, type SfuOptions } from '../../src/index.js';

type Cleanup = (fn: () => Promise<unknown> | unknown) => void;

/** A test hub with an Sfu (`options`) joined as its `sfu` service member; all stopped through `cleanup`. */
export async function hubWithSfu(cleanup: Cleanup, options: SfuOptions = {}): Promise<{ hub: RunningHub; sfu: Sfu; service: SfuService }> {
  const hub = await startTestHub();
  cleanup(() => hub.close());
  const sfu = new Sfu(options);
  cleanup(() => sfu.close());
  const service = new SfuService({ hub: hub.url, token: () => hub.serviceToken('sfu'), sfu });
  cleanup(() => service.close());
  await service.start();
  return { hub, sfu, service };
}

export interface SfuMember {
  signaler: HubSignaler;
  /** Signals and broadcasts received, in order. */
  got: Record<string, Json>[];
  /** The SFU's peer id, once it is in the room. */
  sfu(): string | undefined;
  /** What was received of one `type`, in order. */
  of(type: string): Record<string, Json>[];
}

/** A member of `room` on `url` that records every signal and broadcast and knows the SFU by its `service` mark. */
export async function sfuMember(url: string, room: string, cleanup: Cleanup): Promise<SfuMember> {
  const signaler = new HubSignaler(url, { platform: nodePlatform(), openTimeoutMs: 3000, reconnect: false });
  cleanup(() => signaler.close());
  await signaler.open();
  const got: Record<string, Json>[] = [];
  let sfu: string | undefined;
  signaler.on('signal', ({ data }) => void got.push(data as Record<string, Json>));
  signaler.on('broadcast', ({ data }) => void got.push(data as Record<string, Json>));
  signaler.on('peer-joined', ({ peer }) => void (peer.service === 'sfu' && (sfu = peer.peer)));
  for (const p of await signaler.join(room)) if (p.service === 'sfu') sfu = p.peer;
  return { signaler, got, sfu: () => sfu, of: (type) => got.filter((d) => d.type === type) };
}
