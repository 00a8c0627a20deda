/**
 * Which registries are attached to which host. Two registries of one kind on the same
 * host would both claim the same incoming RTCDataChannels, so the second one throws.
 */
import { DataError } from './errors.js';
import type { ChannelHost } from './host.js';

const claims = new WeakMap<ChannelHost, Set<string>>();

/** @internal Returns the function that releases the claim. */
export function claimHost(host: ChannelHost, kind: 'channels' | 'files'): () => void {
  let kinds = claims.get(host);
  if (!kinds) claims.set(host, (kinds = new Set()));
  if (kinds.has(kind)) throw new DataError('already-attached', `a ${kind} registry is already attached to this host`);
  kinds.add(kind);
  return () => kinds.delete(kind);
}
