#!/usr/bin/env node
/**
 * libdatachannel's early-answer race with raw node-datachannel pairs (docs/architecture.md,
 * Media server, "Early answers"): N offer/answer pairs in one process, the answer applied as
 * soon as the answering side's gathering is complete; counts offering connections that did
 * not come up (and why). The variants measured there:
 *
 *   --dtls-client        offer a=setup:active to the answerer, so the offerer is the DTLS
 *                        client (the SDK's roles); default: the offerer is the DTLS server
 *   --media              a send-only VP8 track instead of a data channel
 *   --strip-answer       apply the answer without its candidates, then add them
 *   --hold-offer         the fix: the answerer gets the offer without its candidates and
 *                        adds them only after the offerer applied the answer
 *   --no-verify          disableFingerprintVerification on the offerer
 *   --delay MS           apply the answer MS later
 *   --spin MS            keep the event loop busy: spin MS of every 1 ms
 *   --busy N             N busy child processes for the duration (default 2)
 *   --log LEVEL          libdatachannel's log of a failing pair (e.g. Verbose)
 *
 *   node bench/client/early-answer.mjs [--pairs 100] [variants…]
 */
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import ndc from 'node-datachannel';

const { values } = parseArgs({
  options: {
    pairs: { type: 'string', default: '100' },
    'dtls-client': { type: 'boolean', default: false },
    media: { type: 'boolean', default: false },
    'strip-answer': { type: 'boolean', default: false },
    'hold-offer': { type: 'boolean', default: false },
    'no-verify': { type: 'boolean', default: false },
    delay: { type: 'string', default: '0' },
    spin: { type: 'string', default: '0' },
    busy: { type: 'string', default: '2' },
    log: { type: 'string' },
  },
});
const { PeerConnection, Video } = ndc;
const candidateLines = /^a=(candidate:|end-of-candidates)[^\r\n]*\r?\n/gm;
const candidatesOf = (sdp) => [...sdp.matchAll(/^a=(candidate:[^\r\n]*)/gm)].map((m) => m[1]);
const poll = (check, ms = 10_000) =>
  new Promise((resolve, reject) => {
    const started = Date.now();
    const timer = setInterval(() => {
      if (check()) resolve();
      else if (Date.now() - started > ms) reject(new Error('timeout'));
      else return;
      clearInterval(timer);
    }, 20);
  });

let log = [];
if (values.log) ndc.initLogger(values.log, (level, message) => log.push(`${level} ${message}`));
const busy = Array.from({ length: Number(values.busy) }, () => spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }));
const spin = Number(values.spin);
const spinner = spin > 0 ? setInterval(() => { const end = performance.now() + spin; while (performance.now() < end); }, 1) : undefined;

const failures = new Map();
const pairs = Number(values.pairs);
try {
  for (let i = 0; i < pairs; i++) {
    log = [];
    const offerer = new PeerConnection(`offerer${i}`, { iceServers: [], disableAutoNegotiation: true, disableFingerprintVerification: values['no-verify'] });
    const answerer = new PeerConnection(`answerer${i}`, { iceServers: [] });
    const states = { offerer: [], answerer: [] };
    offerer.onStateChange((state) => states.offerer.push(state));
    answerer.onStateChange((state) => states.answerer.push(state));
    let open;
    let closeChannel;
    if (values.media) {
      const video = new Video('0', 'SendOnly');
      video.addVP8Codec(96);
      video.addSSRC(1000 + i, 'bench', 'stream', 'video');
      const track = offerer.addTrack(video);
      answerer.onTrack(() => {});
      [open, closeChannel] = [() => track.isOpen(), () => track.close()];
    } else {
      const channel = offerer.createDataChannel('bench');
      [open, closeChannel] = [() => channel.isOpen(), () => channel.close()];
    }
    offerer.setLocalDescription('offer');
    await poll(() => offerer.gatheringState() === 'complete');
    let offer = offerer.localDescription().sdp;
    const offerCandidates = candidatesOf(offer);
    if (values['dtls-client']) offer = offer.replaceAll('a=setup:actpass', 'a=setup:active');
    if (values['hold-offer']) offer = offer.replace(candidateLines, '');
    answerer.setRemoteDescription(offer, 'offer');
    await poll(() => answerer.gatheringState() === 'complete');
    let answer = answerer.localDescription().sdp;
    const answerCandidates = candidatesOf(answer);
    if (values['strip-answer']) answer = answer.replace(candidateLines, '');
    if (Number(values.delay) > 0) await new Promise((r) => setTimeout(r, Number(values.delay)));
    let failure;
    try {
      offerer.setRemoteDescription(answer, 'answer');
      if (values['strip-answer']) for (const c of answerCandidates) offerer.addRemoteCandidate(c, '0');
      if (values['hold-offer']) for (const c of offerCandidates) answerer.addRemoteCandidate(c, '0');
      await poll(() => (offerer.state() === 'connected' && open()) || ['closed', 'failed'].includes(offerer.state()));
      if (offerer.state() !== 'connected') failure = offerer.state();
    } catch (err) {
      failure = err.message;
    }
    if (failure) {
      failures.set(failure, (failures.get(failure) ?? 0) + 1);
      if (values.log) {
        await new Promise((r) => setTimeout(r, 500));
        console.log(`--- pair ${i}: ${failure} (${JSON.stringify(states)})\n${log.join('\n')}`);
      }
    }
    closeChannel();
    offerer.close();
    answerer.close();
  }
} finally {
  clearInterval(spinner);
  for (const child of busy) child.kill('SIGKILL');
}
const failed = [...failures.values()].reduce((a, b) => a + b, 0);
console.log(`${failed} of ${pairs} offering connections failed`, Object.fromEntries(failures));
process.exit(0);
