import { performance } from 'node:perf_hooks';

/**
 * Sends `payload` over a bare RTCDataChannel in `chunk`-byte messages, waiting for
 * `bufferedamountlow` (threshold `low`) whenever more than `high` bytes are buffered.
 * Resolves with the milliseconds until `rx` has received every byte.
 */
export async function timedSend(tx, rx, payload, { chunk, high, low }) {
  tx.bufferedAmountLowThreshold = low;
  rx.binaryType = 'arraybuffer';
  let got = 0;
  const done = new Promise((resolve) => rx.addEventListener('message', (e) => (got += e.data.byteLength) >= payload.length && resolve()));
  const t0 = performance.now();
  for (let at = 0; at < payload.length; at += chunk) {
    if (tx.bufferedAmount > high) await new Promise((r) => tx.addEventListener('bufferedamountlow', r, { once: true }));
    tx.send(payload.subarray(at, at + chunk));
  }
  await done;
  return performance.now() - t0;
}
