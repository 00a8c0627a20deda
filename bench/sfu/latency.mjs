// Glass-to-glass latency that WHIP → SFU → WHEP adds over a direct browser-to-browser
// connection (issue 16, Benchmark). One Chromium, two pages (so both read the same Date.now()):
// the sender draws Date.now() as black and white blocks on a canvas (32 bits, and their
// complement as a check) and sends canvas.captureStream() as VP8; the receiver decodes every
// presented frame of its <video> (requestVideoFrameCallback, the frame drawn to a canvas, each
// block's centre read) and records Date.now() − the drawn time. Two paths, one after the other,
// same canvas, same codec, same machine:
//   direct  RTCPeerConnection sender page ──────────────────────────────→ receiver page
//   sfu     sender page ──WHIP──→ `pinhole serve` (gateway + SFU) ──WHEP──→ receiver page
// The difference of the two is what the media server and gateway add (an extra hop on
// loopback: receive, SRTP decrypt, rewrite, encrypt, send, the viewer's own jitter buffer).
//   npm run bench:latency   (builds, then node bench/sfu/latency.mjs)
// Env: DURATION_S per path (default 20; the first WARMUP_SECONDS, default 3, are not counted),
//      ROUNDS (default 1: direct then sfu; 2: direct, sfu, direct, sfu), CHROMIUM (default /usr/bin/chromium).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { chromium } from 'playwright-core';

const SECONDS = Number(process.env.DURATION_S ?? 20);
const WARMUP_SECONDS = Number(process.env.WARMUP_SECONDS ?? 3);
const ROUNDS = Number(process.env.ROUNDS ?? 1);
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const CLI = fileURLToPath(new URL('../../packages/cli/dist/bin.js', import.meta.url));

/** Runs in both pages. */
const SCRIPT = `
const BLOCK = 40, BITS = 32, PER_ROW = 16;
const gathered = (pc) => new Promise((resolve) => {
  if (pc.iceGatheringState === 'complete') return resolve();
  pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && resolve());
});
const vp8Only = (transceiver) => transceiver.setCodecPreferences(RTCRtpSender.getCapabilities('video').codecs.filter((c) => /vp8|rtx/i.test(c.mimeType)));
window.lat = {
  pc: null,
  samples: [],
  bad: 0,
  /** 640×480 canvas: the low 32 bits of Date.now() in rows 0–1, their complement in rows 2–3, a moving bar below. */
  canvasTrack() {
    const canvas = document.createElement('canvas');
    canvas.width = 640; canvas.height = 480;
    document.body.append(canvas);
    const ctx = canvas.getContext('2d');
    let frame = 0;
    const draw = () => {
      const t = Date.now() % 2 ** 32;
      ctx.fillStyle = '#808080';
      ctx.fillRect(0, 0, 640, 480);
      ctx.fillStyle = '#3060c0';
      ctx.fillRect((frame++ * 8) % 640, 240, 64, 200);
      for (let i = 0; i < BITS; i++) {
        const bit = Math.floor(t / 2 ** i) % 2;
        const x = (i % PER_ROW) * BLOCK, y = Math.floor(i / PER_ROW) * BLOCK;
        ctx.fillStyle = bit ? '#fff' : '#000';
        ctx.fillRect(x, y, BLOCK, BLOCK);
        ctx.fillStyle = bit ? '#000' : '#fff';
        ctx.fillRect(x, y + 2 * BLOCK, BLOCK, BLOCK);
      }
    };
    draw();
    setInterval(draw, 1000 / 30);
    return canvas.captureStream().getVideoTracks()[0];
  },
  async send(pc) {
    const t = pc.addTransceiver(this.canvasTrack(), { direction: 'sendonly' });
    vp8Only(t);
    const params = t.sender.getParameters();
    params.degradationPreference = 'maintain-resolution';
    await t.sender.setParameters(params);
  },
  /** Decodes each frame the <video> presents: the drawn time, checked against its complement. */
  receive(track) {
    const video = document.createElement('video');
    video.muted = true; video.autoplay = true; video.srcObject = new MediaStream([track]);
    document.body.append(video);
    const strip = document.createElement('canvas');
    strip.width = 640; strip.height = 4 * BLOCK;
    const ctx = strip.getContext('2d', { willReadFrequently: true });
    const onFrame = () => {
      const now = Date.now();
      ctx.drawImage(video, 0, 0, 640, 480);
      const px = ctx.getImageData(0, 0, 640, 4 * BLOCK).data;
      const lum = (x, y) => px[(y * 640 + x) * 4 + 1];
      let t = 0, ok = true;
      for (let i = 0; i < BITS && ok; i++) {
        const x = (i % PER_ROW) * BLOCK + BLOCK / 2, y = Math.floor(i / PER_ROW) * BLOCK + BLOCK / 2;
        const bit = lum(x, y) > 128, check = lum(x, y + 2 * BLOCK) > 128;
        if (bit === check) ok = false;
        else if (bit) t += 2 ** i;
      }
      const latency = (now % 2 ** 32 - t + 2 ** 32) % 2 ** 32;
      if (ok && latency < 10000) this.samples.push([now, latency]);
      else this.bad++;
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
  },
  /** Direct path: the sender's offer. */
  async directOffer() {
    const pc = (this.pc = new RTCPeerConnection());
    await this.send(pc);
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc);
    return pc.localDescription.sdp;
  },
  async directAnswer(sdp) {
    const pc = (this.pc = new RTCPeerConnection());
    pc.ontrack = (e) => this.receive(e.track);
    await pc.setRemoteDescription({ type: 'offer', sdp });
    await pc.setLocalDescription(await pc.createAnswer());
    await gathered(pc);
    return pc.localDescription.sdp;
  },
  async accept(sdp) { await this.pc.setRemoteDescription({ type: 'answer', sdp }); },
  /** POSTs the offer to a WHIP or WHEP endpoint (dev-mode hub: no token) and applies the answer. */
  async exchange(endpoint) {
    await this.pc.setLocalDescription(await this.pc.createOffer());
    await gathered(this.pc);
    const res = await fetch(endpoint, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: this.pc.localDescription.sdp });
    if (res.status !== 201) throw new Error('POST ' + endpoint + ': ' + res.status + ' ' + (await res.text()));
    this.resource = new URL(res.headers.get('location'), endpoint).href;
    await this.pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
  },
  async whip(endpoint) {
    this.pc = new RTCPeerConnection();
    await this.send(this.pc);
    await this.exchange(endpoint);
  },
  async whep(endpoint) {
    this.pc = new RTCPeerConnection();
    this.pc.ontrack = (e) => e.track.kind === 'video' && this.receive(e.track);
    this.pc.addTransceiver('video', { direction: 'recvonly' });
    await this.exchange(endpoint);
  },
  async stop() {
    if (this.resource) await fetch(this.resource, { method: 'DELETE' }).catch(() => {});
    this.pc?.close();
  },
  /** Samples after \`since\` (Date.now()), frames that did not decode, and the page's visibility (hidden pages are throttled). */
  results(since) { return { latencies: this.samples.filter(([at]) => at >= since).map(([, l]) => l), bad: this.bad, visibility: document.visibilityState }; },
};
`;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

/**
 * A page of the hub's own origin (served by interception), so that its WHIP and WHEP requests
 * are same-origin: Chromium refuses a page of another origin access to the loopback address space.
 */
async function openPage(browser, hub) {
  const url = `${hub.url}/latency-bench`;
  const page = await browser.newPage();
  page.on('console', (m) => m.type() === 'error' && console.error(`[page] ${m.text()}`));
  page.on('pageerror', (err) => console.error(`[page] ${err.message}`));
  await page.route(url, (route) => route.fulfill({ contentType: 'text/html', body: `<!doctype html><meta charset="utf-8"><body><script>${SCRIPT}</script></body>` }));
  await page.goto(url);
  return page;
}

/** `pinhole serve` in dev mode (no secret: WHIP and WHEP take any request) on a free port of 127.0.0.1. */
async function serve() {
  const dataDir = mkdtempSync(join(tmpdir(), 'pinhole-latency-'));
  const proc = spawn(process.execPath, [CLI, 'serve', '--host', '127.0.0.1', '--port', '0', '--no-tls', '--turn-port', '0', '--data-dir', dataDir, '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'pipe'] });
  // Never outlive this script (it would hold the terminal's pipes open).
  process.once('exit', () => proc.kill('SIGKILL'));
  let out = '';
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`pinhole serve did not start:\n${out}`)), 30_000);
    // The banner with the address goes to stderr, the JSON log to stdout.
    const read = (chunk) => {
      out += chunk;
      const m = /(http:\/\/127\.0\.0\.1:\d+)\//.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    proc.stdout.on('data', read);
    proc.stderr.on('data', read);
    proc.once('exit', (code) => reject(new Error(`pinhole serve exited (${code}):\n${out}`)));
  });
  return {
    url,
    close: async () => {
      proc.kill('SIGTERM');
      await new Promise((r) => (proc.exitCode === null ? proc.once('exit', r) : r()));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** One path: connects a fresh sender and receiver page, collects SECONDS of samples, closes both. */
async function measure(browser, path, hub) {
  const [sender, receiver] = [await openPage(browser, hub), await openPage(browser, hub)];
  try {
    if (path === 'direct') {
      const offer = await sender.evaluate(() => window.lat.directOffer());
      const answer = await receiver.evaluate((sdp) => window.lat.directAnswer(sdp), offer);
      await sender.evaluate((sdp) => window.lat.accept(sdp), answer);
    } else {
      await sender.evaluate((url) => window.lat.whip(url), `${hub.url}/v1/whip/latency`);
      await receiver.evaluate((url) => window.lat.whep(url), `${hub.url}/v1/whep/latency`);
    }
    const since = Date.now() + WARMUP_SECONDS * 1000;
    await sleep((WARMUP_SECONDS + SECONDS) * 1000);
    const { latencies, bad, visibility } = await receiver.evaluate((s) => window.lat.results(s), since);
    await receiver.evaluate(() => window.lat.stop());
    await sender.evaluate(() => window.lat.stop());
    const sorted = [...latencies].sort((a, b) => a - b);
    return { path, n: sorted.length, fps: sorted.length / SECONDS, bad, visibility, p50: quantile(sorted, 0.5), p90: quantile(sorted, 0.9), p99: quantile(sorted, 0.99), max: sorted.at(-1), mean: sorted.reduce((a, b) => a + b, 0) / sorted.length };
  } finally {
    await sender.close();
    await receiver.close();
  }
}

const head = (() => {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    return 'unknown';
  }
})();
console.log(`latency bench: ${SECONDS} s per path after ${WARMUP_SECONDS} s warm-up, ${ROUNDS} round(s); HEAD ${head}; ${cpus().length} × ${cpus()[0]?.model}; load average before ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
const hub = await serve();
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-features=WebRtcHideLocalIpsWithMdns', '--disable-renderer-backgrounding', '--disable-background-timer-throttling', '--disable-backgrounding-occluded-windows'],
});
const rows = [];
try {
  for (let round = 0; round < ROUNDS; round++) {
    for (const path of ['direct', 'sfu']) {
      const row = await measure(browser, path, hub);
      rows.push(row);
      console.log(`${path.padEnd(6)}  n ${String(row.n).padStart(4)} (${row.fps.toFixed(1)}/s, ${row.bad} undecodable, ${row.visibility})  p50 ${row.p50} ms  p90 ${row.p90} ms  p99 ${row.p99} ms  max ${row.max} ms  mean ${row.mean.toFixed(1)} ms`);
    }
  }
} finally {
  await browser.close();
  await hub.close();
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const of = (path, key) => median(rows.filter((r) => r.path === path).map((r) => r[key]));
console.log(
  `WHIP → SFU → WHEP adds p50 ${of('sfu', 'p50') - of('direct', 'p50')} ms (${of('direct', 'p50')} → ${of('sfu', 'p50')}), ` +
    `p99 ${of('sfu', 'p99') - of('direct', 'p99')} ms (${of('direct', 'p99')} → ${of('sfu', 'p99')}); load average after ${loadavg().map((l) => l.toFixed(2)).join(' ')}`,
);
