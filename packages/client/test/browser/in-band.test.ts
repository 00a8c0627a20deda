/**
 * In-band signaling in real Chromium: two peer connections made by exchanging only the
 * manual offer/answer strings renegotiate (a camera track, then a screen share from the
 * other side) and restart ICE in place, all signalled over the connection's control channel,
 * and stay connected. The scenarios live in in-band-entry.ts and run in the page.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openHarness, type Harness } from '@pinhole/test-kit/browser';

let harness: Harness;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON returned by the page
const run = (scenario: string): Promise<any> => harness.page.evaluate(`scenarios.${scenario}()`);

beforeAll(async () => {
  harness = await openHarness(new URL('./in-band-entry.ts', import.meta.url));
}, 60_000);
afterEach(async () => {
  await run('close');
});
afterAll(async () => {
  await harness?.close();
});

describe('in-band signaling after a manual exchange, in Chromium', () => {
  it('renegotiation in-band: a camera track from one side, a screen share from the other; video flows both ways', async () => {
    const result = await run('renegotiate');
    console.info('in-band renegotiation', result);
    // Each renegotiation is an offer and an answer: both in-band (the spent manual exchange
    // could not have carried them, and would have reported `unsupported`).
    expect(result.after[0].sent - result.before[0].sent).toBeGreaterThanOrEqual(2);
    expect(result.after[1].sent - result.before[1].sent).toBeGreaterThanOrEqual(2);
    expect(result.errors).toEqual([[], []]);
    expect(result.transceivers).toEqual([2, 2]);
    expect(result.framesDecoded[0]).toBeGreaterThan(0);
    expect(result.framesDecoded[1]).toBeGreaterThan(0);
    expect(result.connectionState).toEqual(['connected', 'connected']);
    expect(result.gen).toEqual([0, 0]);
    expect(result.echo).toBe('echo: still here');
  }, 45_000);

  it('an in-place ICE restart signalled in-band: new ICE credentials, same connection, channels still work', async () => {
    const result = await run('iceRestart');
    console.info('in-band ICE restart', result);
    expect(result.restarts).toEqual([{ reason: 'network-change', mode: 'ice', attempt: 1, gen: 0 }]);
    expect(result.samePc).toBe(true);
    expect(result.after.local).not.toBe(result.before.local);
    expect(result.after.remote).not.toBe(result.before.remote);
    expect(result.sentInBand).toBeGreaterThanOrEqual(1); // the restart offer, then its candidates
    expect(result.receivedInBand).toBeGreaterThanOrEqual(1);
    expect(result.errors).toEqual([[], []]);
    expect(result.connectionState).toEqual(['connected', 'connected']);
    expect(result.echo).toBe('echo: still here');
  }, 45_000);

  it('a garbage frame on the control channel is refused with bad-payload and answered; the connection goes on', async () => {
    const result = await run('garbage');
    expect(result.errors[1]).toEqual([expect.stringMatching(/^bad-payload: from offerer: in-band frame: "description" is not/)]);
    expect(result.errors[0]).toEqual([expect.stringMatching(/^bad-payload: answerer refused an in-band frame of ours: /)]);
    expect(result.connectionState).toEqual(['connected', 'connected']);
    expect(result.echo).toBe('echo: still here');
  }, 45_000);
});
