// The janus row of bench/sfu: the same load as the whole-SFU row (the node-datachannel publisher of
// receivers.mjs sends one VP8 stream at RATE packets/s, 1,200-byte payload), through a Janus
// VideoRoom (publishers=1, VP8) to N node-datachannel subscribers (videoroom `join` as
// subscriber → Janus offers → the receivers answer → `start`). Janus is another process, so its
// CPU comes from /proc/<pid>/stat (utime + stime, every thread) and its memory from VmRSS.
import { processCpuMicros, processRss, startJanus } from './janus.mjs';

const ROOM = 1234;
const FEED = 1;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** @param rx the receivers child process of run.mjs; returns the same row fields as the other trials. */
export async function janusTrial(n, rx, { rate, seconds }) {
  const janus = await startJanus();
  try {
    return await measure(janus, n, rx, { rate, seconds });
  } catch (err) {
    err.message += `\n--- janus log (tail) ---\n${janus.log()}`;
    throw err;
  } finally {
    await janus.stop();
  }
}

async function measure(janus, n, rx, { rate, seconds }) {
  const admin = await janus.attach();
  await janus.message(admin, { request: 'create', room: ROOM, publishers: 1, videocodec: 'vp8', bitrate: 0, notify_joining: false });

  const pub = await janus.attach();
  await janus.message(pub, { request: 'join', ptype: 'publisher', room: ROOM, id: FEED, display: 'bench' });
  const offer = await rx.publish(rate);
  const published = await janus.message(pub, { request: 'publish', video: true, audio: false, data: false }, { type: 'offer', sdp: offer });
  if (!published.jsep) throw new Error(`janus publish: no answer (${JSON.stringify(published.plugindata?.data)})`);
  await janus.trickleDone(pub);
  rx.publisherAnswer(published.jsep.sdp);
  await sleep(1000);
  rx.start(); // a few packets, as in the whole-SFU row
  await sleep(500);
  await rx.stop();

  const rssBefore = processRss(janus.pid);
  let connected = 0;
  const failures = [];
  for (let i = 0; i < n; i += 10) {
    const batch = [];
    for (let j = i; j < Math.min(n, i + 10); j++) {
      batch.push((async () => {
        try {
          const sub = await janus.attach();
          const attached = await janus.message(sub, { request: 'join', ptype: 'subscriber', room: ROOM, streams: [{ feed: FEED }] });
          if (!attached.jsep) throw new Error(`janus join: no offer (${JSON.stringify(attached.plugindata?.data)})`);
          const answer = await rx.answerFor(j, attached.jsep.sdp);
          await janus.message(sub, { request: 'start', room: ROOM }, { type: 'answer', sdp: answer });
          await janus.trickleDone(sub);
          connected++;
        } catch (err) {
          failures.push(err.message);
        }
      })());
    }
    await Promise.all(batch);
  }
  await sleep(2000);
  const rssAfter = processRss(janus.pid);

  // Idle cost of the open connections (keepalives, RTCP, consent checks), subtracted below.
  const idle0 = processCpuMicros(janus.pid);
  const idleStart = performance.now();
  await sleep(3000);
  const idleRate = (processCpuMicros(janus.pid) - idle0) / (performance.now() - idleStart);

  const cpu0 = processCpuMicros(janus.pid);
  const start = performance.now();
  const baseline = (await rx.count()).reduce((a, b) => a + (b ?? 0), 0);
  rx.start();
  await sleep(seconds * 1000);
  const sentByPublisher = await rx.stop();
  const wall = performance.now() - start;
  await sleep(1500); // packets in flight; Janus's CPU for them is in its counters by then too
  const cpu = processCpuMicros(janus.pid) - cpu0 - idleRate * (performance.now() - start);
  const got = (await rx.count()).reduce((a, b) => a + (b ?? 0), 0) - baseline;
  if (process.env.DEBUG_JANUS) console.error('janus row: publisher sent', sentByPublisher, 'per subscriber', await rx.count());
  if (failures.length) console.error(`janus: ${failures.length} of ${n} subscribers failed to connect: ${[...new Set(failures)].join('; ')}`);
  const perPacket = cpu / Math.max(1, got);
  return {
    engine: `Janus VideoRoom 1.1.2 (Debian)${process.env.JANUS_EVENT_LOOPS ? `, ${process.env.JANUS_EVENT_LOOPS} event loops` : ''}`,
    failedSetups: failures.length,
    n: connected,
    sent: got,
    loss: 1 - got / (sentByPublisher * connected),
    pktsPerSec: got / (wall / 1000),
    cpuShare: cpu / (wall * 1000),
    perPacket,
    perCore: 1e6 / perPacket,
    idleCpuShare: idleRate / 1000,
    rssPerSub: (rssAfter - rssBefore) / Math.max(1, connected),
    jsPerSub: 0,
  };
}
