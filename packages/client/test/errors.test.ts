/**
 * The coded errors a user of the SDK can trigger through its public paths: each is the
 * layer's error class with its documented `code` (docs/architecture.md, "Errors"), never a
 * bare Error. Option checks and the hub connection's limits need no network; joining twice
 * and asking a connect-less room for channels run against a real hub.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { HubConnection } from '../src/signaling/hub-connection.js';
import { SignalingError } from '../src/signaling/errors.js';
import { nodePlatform } from '@pinhole/node';
import { resolveFileOptions } from '../src/data/files.js';
import { DataError } from '../src/data/errors.js';
import { PeerError } from '../src/peer/errors.js';
import { Emitter } from '../src/emitter.js';
import { CodedError } from '../src/coded-error.js';
import { connect } from '@pinhole/node';
import { startTestHub } from '@pinhole/test-kit/hub';
import { until } from '@pinhole/test-kit/wait';

const cleanup: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

/** What `fn` threw (or rejected with). */
async function caught(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  throw new Error('nothing was thrown');
}

const platform = nodePlatform();
const URL = 'http://127.0.0.1:9';

describe('options and limits (no network)', () => {
  const cases: [string, () => unknown, new (...args: never[]) => CodedError<string>, string, RegExp][] = [
    ['no hub URL', () => new HubConnection([], { platform }), SignalingError, 'bad-option', /no hub URL/],
    ['an unknown transport', () => new HubConnection(URL, { platform, transports: ['ws', 'carrier-pigeon' as 'ws'] }), SignalingError, 'bad-option', /unknown transport 'carrier-pigeon'/],
    ['reconnect options out of range', () => new HubConnection(URL, { platform, reconnect: { factor: 0.5 } }), SignalingError, 'bad-option', /invalid reconnect options/],
    ['chunkBytes past MAX_MESSAGE_BYTES', () => resolveFileOptions({ chunkBytes: 10 * 1024 * 1024 }), DataError, 'bad-value', /chunkBytes must be/],
    ['waiting on an event past its timeout', () => new Emitter<{ never: void }>().next('never', 10), CodedError, 'timeout', /timed out after 10 ms waiting for 'never'/],
  ];
  it.each(cases)('%s', async (_name, fn, Kind, code, message) => {
    const err = await caught(fn);
    expect(err).toBeInstanceOf(Kind);
    expect(err).toMatchObject({ code });
    expect((err as Error).message).toMatch(message);
  });

  it('send on a closed hub connection is `closed`; past maxRetained unconfirmed frames it is `queue-full`', async () => {
    const full = new HubConnection(URL, { platform, maxRetained: 2, reconnect: false });
    full.send({ type: 'join', room: 'a' });
    full.send({ type: 'join', room: 'b' });
    const overflow = await caught(() => full.send({ type: 'join', room: 'c' }));
    expect(overflow).toBeInstanceOf(SignalingError);
    expect(overflow).toMatchObject({ name: 'SignalingError', code: 'queue-full', message: 'more than 2 frames waiting for the hub' });

    await full.close();
    expect(await caught(() => full.send({ type: 'join', room: 'd' }))).toMatchObject({ name: 'SignalingError', code: 'closed' });
  });
});

describe('sessions and rooms (real hub)', () => {
  it('joining a room twice is `already-joined`; channels, files and reports in a connect: false room are `unsupported`', async () => {
    const hub = await startTestHub();
    cleanup.push(() => hub.close());
    const [a, b] = [await connect(hub.url, { reconnect: false }), await connect(hub.url, { reconnect: false })];
    cleanup.push(() => a.close(), () => b.close());
    const room = await a.join('errors', {}, { connect: false });
    await b.join('errors', {}, { connect: false });

    const twice = await caught(() => a.join('errors'));
    expect(twice).toBeInstanceOf(SignalingError);
    expect(twice).toMatchObject({ code: 'already-joined', message: "already in room 'errors'" });

    await until(() => room.peers.size === 1, 10_000, 'the other member');
    const peer = [...room.peers.values()][0]!;
    for (const call of [() => peer.channel('chat'), () => peer.sendFile(new Blob(['x'])), () => peer.report()]) {
      const err = await caught(call);
      expect(err).toBeInstanceOf(PeerError);
      expect(err).toMatchObject({ name: 'PeerError', code: 'unsupported' });
    }
  });
});
