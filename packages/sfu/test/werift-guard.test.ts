/**
 * The guard on werift's RTP header parser (src/engines/werift-guard.ts): a packet whose header
 * extension claims more bytes than it has is refused at once, where werift alone spends
 * minutes of CPU on it (seen: > 10 s in the worker below without the guard, a hung process);
 * valid packets parse exactly as before.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { transform } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { RtpHeader, RtpPacket } from 'werift';
import { rtp } from '@pinhole/test-kit/rtp';
import { guardWeriftRtpParser, rtpHeaderFits } from '../src/engines/werift-guard.js';

/** 16 bytes: a fixed header with X=1 and a one-byte-header extension claiming 0xffff words (256 KiB). */
const HOSTILE = Buffer.from([0x90, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xbe, 0xde, 0xff, 0xff]);

describe('rtpHeaderFits', () => {
  it.each([
    ['a bare 12-byte header', rtp({ ssrc: 1, seq: 1, ts: 1, payload: Buffer.alloc(0) }), true],
    ['a header with a one-byte extension block', rtp({ ssrc: 1, seq: 1, ts: 1, extension: true }), true],
    ['11 bytes', Buffer.alloc(11, 0x80), false],
    ['CSRC count 15 in 16 bytes', Buffer.from([0x8f, 96, ...Array<number>(14).fill(0)]), false],
    ['X=1 with no room for the extension header', Buffer.from([0x90, 96, ...Array<number>(12).fill(0)]), false],
    ['an extension claiming 256 KiB', HOSTILE, false],
  ])('%s → %s', (_, packet, fits) => {
    expect(rtpHeaderFits(packet)).toBe(fits);
  });
});

describe('werift with the guard', () => {
  it('refuses the hostile header at once (run in a worker, killed after 10 s)', async () => {
    const { code } = await transform(readFileSync(new URL('../src/engines/werift-guard.ts', import.meta.url), 'utf8'), { loader: 'ts', format: 'cjs' });
    const worker = new Worker(
      `
      const { workerData, parentPort } = require('node:worker_threads');
      const req = require('node:module').createRequire(workerData.from);
      const mod = { exports: {} };
      new Function('require', 'module', 'exports', workerData.code)(req, mod, mod.exports);
      mod.exports.guardWeriftRtpParser();
      const { RtpPacket } = req('werift');
      const started = performance.now();
      try {
        RtpPacket.deSerialize(Buffer.from(workerData.packet));
        parentPort.postMessage({ outcome: 'parsed', ms: performance.now() - started });
      } catch (err) {
        parentPort.postMessage({ outcome: 'refused: ' + err.message, ms: performance.now() - started });
      }`,
      { eval: true, workerData: { code, from: createRequire(import.meta.url).resolve('werift'), packet: HOSTILE } },
    );
    try {
      const result = await new Promise<{ outcome: string; ms: number }>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
        setTimeout(() => reject(new Error('werift still parsing after 10 s: the guard is not in the way')), 10_000);
      });
      expect(result.outcome).toBe('refused: RTP header runs past the end of the packet');
      expect(result.ms).toBeLessThan(100);
    } finally {
      await worker.terminate();
    }
  }, 20_000);

  it('parses valid packets as before, and installs once', () => {
    guardWeriftRtpParser();
    const guarded = RtpHeader.deSerialize;
    guardWeriftRtpParser();
    expect(RtpHeader.deSerialize).toBe(guarded);
    const packet = RtpPacket.deSerialize(rtp({ ssrc: 0x1234, seq: 7, ts: 9000, extension: true, payload: Buffer.from([1, 2, 3]) }));
    expect(packet.header).toMatchObject({ ssrc: 0x1234, sequenceNumber: 7, timestamp: 9000, extension: true, payloadOffset: 20 });
    expect(packet.header.extensions).toEqual([{ id: 1, payload: Buffer.from([0x71]) }]);
    expect([...packet.payload]).toEqual([1, 2, 3]);
  });
});
