/**
 * `pinhole offer` and `pinhole answer` in-process, wired to each other through pipes: each
 * one's first stdout line (its string) becomes the other's stdin, then they chat over a
 * data channel. Also: a garbled string is a usage error (exit 2), not a crash.
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runCli } from '../src/index.js';
import { capture, type Captured } from '@pinhole/test-kit/cli';

async function until(pred: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const firstLine = (out: Captured): string | undefined => (out.text.includes('\n') ? out.text.split('\n')[0] : undefined);

describe('pinhole offer / answer', () => {
  it('offer prints its string and a QR code; answer takes it and prints its answer; both stop on abort', async () => {
    const abort = new AbortController();
    const offerIn = new PassThrough();
    const answerIn = new PassThrough();
    const [offerOut, answerOut, offerErr, answerErr] = [capture(), capture(), capture(), capture()];
    const offering = runCli(['offer'], { stdin: offerIn, stdout: offerOut, stderr: offerErr, env: {}, signal: abort.signal });
    await until(() => firstLine(offerOut) !== undefined, 'the offer string');
    const offer = firstLine(offerOut)!;
    expect(offer).toMatch(/^PH1c[A-Za-z0-9_-]+$/);
    expect(offerErr.text).toContain('█'); // the QR code, on stderr

    const answering = runCli(['answer', offer, '--no-qr'], { stdin: answerIn, stdout: answerOut, stderr: answerErr, env: {}, signal: abort.signal });
    await until(() => firstLine(answerOut) !== undefined, 'the answer string');
    expect(firstLine(answerOut)).toMatch(/^PH1c[A-Za-z0-9_-]+$/);
    expect(answerErr.text).not.toContain('█');
    expect(answerErr.text).toMatch(/\d+ characters\. Give this answer to the offering side/);
    offerIn.write(`${firstLine(answerOut)}\n`);
    abort.abort();
    expect([await offering, await answering]).toEqual([0, 0]);
  });

  it('the two chat over a data channel: every line arrives, both exit 0 when both inputs end', async () => {
    const offerIn = new PassThrough();
    const answerIn = new PassThrough();
    const [offerOut, answerOut, offerErr, answerErr] = [capture(), capture(), capture(), capture()];
    const offering = runCli(['offer', '--no-qr'], { stdin: offerIn, stdout: offerOut, stderr: offerErr, env: {} });
    await until(() => firstLine(offerOut) !== undefined, 'the offer string');
    const answering = runCli(['answer', firstLine(offerOut)!, '--no-qr'], { stdin: answerIn, stdout: answerOut, stderr: answerErr, env: {} });
    await until(() => firstLine(answerOut) !== undefined, 'the answer string');
    offerIn.write(`${firstLine(answerOut)}\n`);
    const fromOffer = Array.from({ length: 50 }, (_, i) => `offer line ${i}`);
    const fromAnswer = Array.from({ length: 50 }, (_, i) => `answer line ${i}`);
    offerIn.end(fromOffer.map((l) => `${l}\n`).join(''));
    answerIn.end(fromAnswer.map((l) => `${l}\n`).join(''));
    expect([await offering, await answering]).toEqual([0, 0]);
    expect(offerOut.text.split('\n').slice(1, -1)).toEqual(fromAnswer);
    expect(answerOut.text.split('\n').slice(1, -1)).toEqual(fromOffer);
    expect(offerErr.text).toMatch(/connected: /);
  }, 30_000);

  it.each([
    ['a garbled offer', ['answer', 'PH1cnot-really-an-offer'], '', /the offer string is not usable: the manual string does not inflate/],
    ['an answer where an offer belongs', ['answer'], 'PH1c', /the offer string is not usable/],
    ['stdin that ends before the offer', ['answer'], '', /stdin ended before the offer string arrived/],
  ])('%s: exit 2 with one clear line', async (_name, argv, input, message) => {
    const stdin = new PassThrough();
    stdin.end(input);
    const stderr = capture();
    const code = await runCli(argv, { stdin, stdout: capture(), stderr, env: {} });
    expect(code).toBe(2);
    expect(stderr.text).toMatch(message);
    expect(stderr.text).not.toMatch(/unexpected error/);
  });
});
