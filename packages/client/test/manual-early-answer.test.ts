/**
 * Manual exchanges whose answer is applied the instant it is made (no person in between), on
 * a loaded machine (two busy child processes) with a busy event loop: libdatachannel's
 * early-answer race (docs/architecture.md, "Early answers"). Before the answering side held
 * the offer's candidates back, 10 and 13 of 100 such exchanges lost their first connection
 * (both attempts of one run); since, 0 of 240.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualSignaler } from '../src/signaling/manual.js';
import { until } from '@pinhole/test-kit/wait';
import { meet, nodeRoom } from './support/rendezvous.js';

const EXCHANGES = 60;
const BUSY_LOOPS = 2;
/** Each millisecond the event loop spins this long: always busy, yet timers and I/O still run. */
const EVENT_LOOP_SPIN_MS = 5;

let busy: ChildProcess[] = [];
beforeAll(() => {
  busy = Array.from({ length: BUSY_LOOPS }, () => spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }));
});
afterAll(() => {
  for (const child of busy) child.kill('SIGKILL');
});

/** One exchange with the answer applied at once; how its first connections ended up. */
async function exchangeAtOnce(): Promise<string> {
  const offering = new ManualSignaler({ role: 'offer' });
  const answering = new ManualSignaler({ role: 'answer' });
  const ra = await nodeRoom(offering, 'race');
  try {
    await answering.remote(await offering.local(10_000));
    const rb = await nodeRoom(answering, 'race');
    try {
      await offering.remote(await answering.local(10_000));
      const { pa, pb } = await meet(ra, rb);
      const states = (): string[] => [pa, pb].map((p) => (p.connection!.gen > 0 ? 'rebuilt' : p.connection!.connectionState));
      await until(() => states().every((s) => s === 'connected') || states().some((s) => s === 'closed' || s === 'failed' || s === 'rebuilt'), 20_000, 'both connected (or closed)');
      return states().join('/');
    } finally {
      await rb.leave();
      await answering.close();
    }
  } finally {
    await ra.leave();
    await offering.close();
  }
}

describe('manual exchanges applied at once, under load', () => {
  it(`never lose their first connection (${EXCHANGES} exchanges, ${BUSY_LOOPS} busy loops, a busy event loop)`, async () => {
    const spinner = setInterval(() => {
      const end = performance.now() + EVENT_LOOP_SPIN_MS;
      while (performance.now() < end);
    }, 1);
    const outcomes: string[] = [];
    try {
      for (let i = 0; i < EXCHANGES; i++) outcomes.push(await exchangeAtOnce());
    } finally {
      clearInterval(spinner);
    }
    const failed = outcomes.filter((o) => o !== 'connected/connected');
    console.info(`${failed.length} of ${EXCHANGES} manual exchanges lost their first connection`);
    expect(failed).toEqual([]);
  }, 60_000);
});
