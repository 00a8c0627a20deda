/**
 * The signal every target carries: a fake trickle-ICE candidate plus an SDP fragment, padded so
 * that its JSON is ~300 bytes. `n` is the per-direction sequence number, `t0` the time (ms,
 * performance.now() of the generator process) the initiator sent it, `t1` the time the echoer
 * sent it back (0 on the way out).
 */
const CANDIDATE =
  'candidate:842163049 1 udp 1677729535 192.0.2.17 51234 typ srflx raddr 10.0.0.5 rport 51234 generation 0 ufrag Xy7q network-id 1';
const SDP = 'a=ice-ufrag:Xy7q\r\na=ice-pwd:';

export function makeData(n, t0, t1, size = 300) {
  const data = { kind: 'candidate', n, t0, t1, candidate: CANDIDATE, sdpMid: '0', sdpMLineIndex: 0, sdp: SDP };
  // Pad the SDP fragment once per size to hit the target (timestamps vary by a few bytes).
  const base = JSON.stringify({ ...data, n: 10000, t0: 12345.678901234, t1: 12345.678901234 }).length;
  if (base < size) data.sdp = SDP + 'x'.repeat(size - base);
  return data;
}

let cachedSize = -1;
let cachedSdp = SDP;
/** Fast path used on the hot loop: same shape as makeData, padding computed once. */
export function signalData(n, t0, t1, size) {
  if (size !== cachedSize) {
    cachedSdp = makeData(0, 0, 0, size).sdp;
    cachedSize = size;
  }
  return { kind: 'candidate', n, t0, t1, candidate: CANDIDATE, sdpMid: '0', sdpMLineIndex: 0, sdp: cachedSdp };
}
