/**
 * `forward` through a real hub with node-datachannel peers: concurrent TCP streams of a few
 * MB each with SHA-256 equality both ways, half-close in each direction, end-to-end
 * backpressure (a stalled reader stops the far writer instead of filling memory), and
 * streams that fail (unknown target, refused connection) reset without hurting the agent.
 */
import { createHash, randomBytes } from 'node:crypto';
import { connect as tcpConnect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalForward } from '../src/index.js';
import { fixture, sha256, tcpServer, until, type Fixture } from './support.js';

const cleanup: (() => unknown)[] = [];
let f: Fixture;
/**
 * Targets: echo (pipes back, FIN follows FIN), speak-first (sends 3 MB and FIN, then reads),
 * stall (reads only when the test resumes it), flood (writes 48 MB as fast as it may).
 */
const received = new Map<string, string>();
const stalled: Socket[] = [];
const FLOOD_BYTES = 48 * 1024 * 1024;
let flooded = 0;
let floodDigest = '';
const WINDOW = 512 * 1024;

async function listen(target: string): Promise<LocalForward> {
  const fwd = await f.client.forward({ port: 0, target, stream: { windowBytes: WINDOW, ackBytes: WINDOW / 4 } });
  cleanup.push(() => fwd.close());
  return fwd;
}

/** Connects to the local forward, sends `data` (then FIN), collects everything until the far FIN. */
function roundTrip(port: number, data: Uint8Array, opts: { sendAfterEnd?: boolean } = {}): Promise<{ got: Buffer; endedBeforeWeSent: boolean }> {
  return new Promise((resolve, reject) => {
    const s = tcpConnect({ port, host: '127.0.0.1', allowHalfOpen: true });
    const parts: Buffer[] = [];
    let sent = false;
    let endedBeforeWeSent = false;
    const send = () => {
      sent = true;
      s.end(data);
    };
    s.on('connect', () => !opts.sendAfterEnd && send());
    s.on('data', (c: Buffer) => parts.push(c));
    s.on('end', () => {
      if (opts.sendAfterEnd) {
        endedBeforeWeSent = !sent;
        send(); // our direction still flows after theirs ended
      }
    });
    s.on('close', (hadError) => (hadError ? reject(new Error('stream reset')) : resolve({ got: Buffer.concat(parts), endedBeforeWeSent })));
    s.on('error', reject);
  });
}

/** Resolves once `value()` has not moved for half a second (a writer blocked by backpressure). */
async function stalledValue(value: () => number): Promise<void> {
  let last = -1;
  while (value() !== last) {
    last = value();
    await new Promise((r) => setTimeout(r, 500));
  }
}

beforeAll(async () => {
  const echo = await tcpServer((s) => s.pipe(s), cleanup);
  const speakFirst = await tcpServer((s) => {
    const hash = createHash('sha256');
    const key = String(s.remotePort);
    s.on('data', (c: Buffer) => hash.update(c));
    s.on('end', () => received.set(key, hash.digest('hex')));
    const out = randomBytes(3 * 1024 * 1024);
    s.end(out);
    received.set(`${key}:sent`, sha256(out));
  }, cleanup);
  const stall = await tcpServer((s) => {
    s.pause();
    stalled.push(s);
  }, cleanup);
  const flood = await tcpServer((s) => {
    // Writes 48 MB as fast as TCP takes them; `flooded` counts what left this socket.
    const data = randomBytes(FLOOD_BYTES);
    floodDigest = sha256(data);
    const pump = () => {
      while (flooded < FLOOD_BYTES) {
        const ok = s.write(data.subarray(flooded, flooded + 256 * 1024));
        flooded += 256 * 1024;
        if (!ok) return void s.once('drain', pump);
      }
      s.end();
    };
    pump();
  }, cleanup);
  const refused = await tcpServer(() => {}, cleanup);
  await new Promise((r) => refused.server.close(r)); // a port where nothing listens any more
  f = await fixture(
    {
      expose: [
        { name: 'echo', host: '127.0.0.1', port: echo.port },
        { name: 'speak-first', host: '127.0.0.1', port: speakFirst.port },
        { name: 'stall', host: '127.0.0.1', port: stall.port },
        { name: 'flood', host: '127.0.0.1', port: flood.port },
        { name: 'refused', host: '127.0.0.1', port: refused.port },
      ],
      stream: { windowBytes: WINDOW, ackBytes: WINDOW / 4 },
    },
    cleanup,
  );
}, 60_000);

afterAll(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

describe('forward: TCP over data channels', () => {
  it('6 concurrent streams of 3 MB each come back whole (SHA-256), each closing with FIN', async () => {
    const fwd = await listen('echo');
    const payloads = Array.from({ length: 6 }, () => randomBytes(3 * 1024 * 1024));
    const results = await Promise.all(payloads.map((p) => roundTrip(fwd.address.port, p)));
    results.forEach((r, i) => expect(sha256(r.got)).toBe(sha256(payloads[i]!)));
    await until(() => fwd.results.length === 6, 10_000, 'streams to end');
    expect(fwd.results.every((r) => r.ok && r.bytesOut === 3 * 1024 * 1024 && r.bytesIn === 3 * 1024 * 1024)).toBe(true);
  });

  it('half-close, far side first: the target sends 3 MB and FIN, then still receives 2 MB from us', async () => {
    const fwd = await listen('speak-first');
    const ours = randomBytes(2 * 1024 * 1024);
    const sizeBefore = received.size;
    const r = await roundTrip(fwd.address.port, ours, { sendAfterEnd: true });
    expect(r.endedBeforeWeSent).toBe(true);
    expect(r.got.byteLength).toBe(3 * 1024 * 1024);
    await until(() => received.size === sizeBefore + 2, 10_000, 'the target to see our FIN');
    const digests = [...received.entries()].slice(sizeBefore);
    expect(digests.find(([k]) => k.endsWith(':sent'))?.[1]).toBe(sha256(r.got));
    expect(digests.find(([k]) => !k.endsWith(':sent'))?.[1]).toBe(sha256(ours));
  });

  it('half-close, our side first: the echo target gets our FIN and still answers with everything', async () => {
    const fwd = await listen('echo');
    const ours = randomBytes(1024 * 1024 + 7);
    const r = await roundTrip(fwd.address.port, ours);
    expect(sha256(r.got)).toBe(sha256(ours));
  });

  it('backpressure: a target that does not read stops our writer; when it reads, 48 MB arrive intact', async () => {
    const fwd = await listen('stall');
    const total = 48 * 1024 * 1024;
    const data = randomBytes(total);
    const s = tcpConnect({ port: fwd.address.port, host: '127.0.0.1', allowHalfOpen: true });
    s.on('data', () => {}); // the target sends nothing here
    await new Promise((r) => s.once('connect', r));
    let accepted = 0; // bytes our socket got rid of (to the kernel)
    const chunk = 256 * 1024;
    await new Promise<void>((resolve) => {
      const pump = () => {
        while (accepted < total) {
          const ok = s.write(data.subarray(accepted, accepted + chunk));
          accepted += chunk;
          if (!ok) return void s.once('drain', pump);
        }
        resolve();
      };
      pump();
      void stalledValue(() => accepted).then(resolve);
    });
    // Without end-to-end flow control the bridge would have swallowed everything.
    expect(accepted).toBeLessThan(total / 2);
    const target = stalled.at(-1)!;
    const hash = createHash('sha256');
    let got = 0;
    const done = new Promise<void>((r) => target.on('end', r));
    target.on('data', (c: Buffer) => {
      hash.update(c);
      got += c.byteLength;
    });
    target.resume();
    await new Promise<void>((resolve) => {
      const pump = () => {
        while (accepted < total) {
          const ok = s.write(data.subarray(accepted, accepted + chunk));
          accepted += chunk;
          if (!ok) return void s.once('drain', pump);
        }
        s.end();
        resolve();
      };
      pump();
    });
    await done;
    expect(got).toBe(total);
    expect(hash.digest('hex')).toBe(sha256(data));
    s.destroy();
  });

  it('backpressure the other way: we do not read, so the target\'s writes stall; then 48 MB arrive intact', async () => {
    const fwd = await listen('flood');
    const s = tcpConnect({ port: fwd.address.port, host: '127.0.0.1', allowHalfOpen: true });
    s.pause();
    await new Promise((r) => s.once('connect', r));
    await until(() => flooded > 0, 10_000, 'the target to start');
    await stalledValue(() => flooded);
    expect(flooded).toBeLessThan(FLOOD_BYTES / 2);
    const hash = createHash('sha256');
    let got = 0;
    s.on('data', (c: Buffer) => {
      hash.update(c);
      got += c.byteLength;
    });
    const ended = new Promise((r) => s.once('end', r));
    s.resume();
    await ended;
    expect(got).toBe(FLOOD_BYTES);
    expect(hash.digest('hex')).toBe(floodDigest);
    s.end();
  });

  it.each([
    { target: 'nope', code: 'unknown-target' },
    { target: 'refused', code: 'connect-failed' },
  ])('a stream to $target is reset ($code); the agent goes on', async ({ target, code }) => {
    const fwd = await listen(target);
    const s = tcpConnect({ port: fwd.address.port, host: '127.0.0.1' });
    const closed = await new Promise<{ error?: string }>((resolve) => {
      s.on('error', (e: NodeJS.ErrnoException) => resolve({ error: e.code }));
      s.on('close', () => resolve({}));
    });
    expect(closed.error).toBe('ECONNRESET');
    await until(() => fwd.results.length === 1, 10_000, 'the stream result');
    expect(fwd.results[0]).toMatchObject({ ok: false, error: { code } });
    expect(await f.client.echo('alive')).toEqual({ kind: 'text', data: 'alive' });
  });
});
