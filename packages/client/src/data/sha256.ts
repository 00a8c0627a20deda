/**
 * Incremental SHA-256 behind a one-function seam. WebCrypto has no incremental digest, so
 * browsers use @noble/hashes (~190 MiB/s here); the Node entry swaps in node:crypto
 * (~1.9 GiB/s) through `nodeSha256` in node-fs.ts.
 */
import { sha256 } from '@noble/hashes/sha2';

export interface Sha256 {
  update(bytes: Uint8Array): void;
  /** Finishes the hash; call once. */
  digest(): Uint8Array;
}
export type Sha256Factory = () => Sha256;

export const nobleSha256: Sha256Factory = () => sha256.create();

export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}
