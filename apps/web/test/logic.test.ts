/** The app's small pure pieces: room names, URL switches, connection badges, media errors, formatting. */
import type { ConnectivityReport } from '@pinhole/client';
import { describe, expect, it } from 'vitest';
import { describeConnection, describeSfu } from '../src/badge.js';
import { layerFor } from '../src/layers.js';
import { formatBytes, formatEta } from '../src/dom.js';
import { explainMediaError } from '../src/media-errors.js';
import { cleanRoomName, joinLink, randomRoomName, roomFromPath, watchedRoomFromPath, watchLink } from '../src/rooms.js';
import { connectOptionsOf, readSwitches, switchesQuery } from '../src/switches.js';
import { viewersOf } from '../src/viewers.js';

describe('room names', () => {
  it('random names are adjective-noun-number and valid room names', () => {
    for (let i = 0; i < 50; i++) {
      const name = randomRoomName();
      expect(name).toMatch(/^[a-z]+-[a-z]+-[1-9]\d{2}$/);
      expect(cleanRoomName(name)).toBe(name);
    }
    expect(randomRoomName(() => 0)).toBe('amber-badger-100');
  });

  it.each([
    ['spaces become dashes', '  team sync ', 'team-sync'],
    ['characters the hub refuses are dropped', 'café/☕ room!', 'caf-room'],
    ['a pasted join link gives its room', 'https://hub.example:8443/r/standup?relay=1', 'standup'],
    ['an encoded link room is decoded', 'https://h/r/a%20b', 'a-b'],
    ['nothing usable', '%%%', undefined],
    ['only dots', '...', undefined],
  ])('%s', (_name, input, expected) => {
    expect(cleanRoomName(input)).toBe(expected);
  });

  it('cuts names at 128 characters', () => {
    expect(cleanRoomName('a'.repeat(200))).toHaveLength(128);
  });

  it('join links and paths', () => {
    expect(joinLink('https://h:8443', 'standup')).toBe('https://h:8443/r/standup');
    expect(roomFromPath('/r/standup')).toBe('standup');
    expect(roomFromPath('/r/standup/')).toBe('standup');
    expect(roomFromPath('/')).toBeUndefined();
    expect(roomFromPath('/r/a/b')).toBeUndefined();
    expect(roomFromPath('/r/%E0%A4%A')).toBeUndefined(); // a malformed escape
  });

  it('watch links and paths', () => {
    expect(watchLink('https://h:8443', 'stand up')).toBe('https://h:8443/watch/stand%20up');
    expect(watchedRoomFromPath('/watch/standup')).toBe('standup');
    expect(watchedRoomFromPath('/watch/standup/')).toBe('standup');
    expect(watchedRoomFromPath('/r/standup')).toBeUndefined();
    expect(watchedRoomFromPath('/watch/')).toBeUndefined();
    expect(watchedRoomFromPath('/watch/a/b')).toBeUndefined();
  });
});

describe('pinhole:sfu-viewers', () => {
  it('reads the count, and nothing from other signals or bad counts', () => {
    expect(viewersOf({ type: 'pinhole:sfu-viewers', count: 3 })).toBe(3);
    expect(viewersOf({ type: 'pinhole:sfu-viewers', count: 0 })).toBe(0);
    expect(viewersOf({ type: 'pinhole:sfu-tracks', count: 3 })).toBeUndefined();
    expect(viewersOf({ type: 'pinhole:sfu-viewers', count: -1 })).toBeUndefined();
    expect(viewersOf({ type: 'pinhole:sfu-viewers', count: '3' })).toBeUndefined();
    expect(viewersOf(null)).toBeUndefined();
  });
});

describe('URL switches', () => {
  it.each([
    ['none', '', { relay: false, problems: [] }, {}],
    ['forced transport', '?transport=sse', { transport: 'sse', relay: false, problems: [] }, { transports: ['sse'] }],
    ['relay', '?relay=1', { relay: true, problems: [] }, { iceTransportPolicy: 'relay' }],
    ['both', '?transport=poll&relay=true', { transport: 'poll', relay: true, problems: [] }, { transports: ['poll'], iceTransportPolicy: 'relay' }],
    ['relay=0', '?relay=0', { relay: false, problems: [] }, {}],
    ['topology', '?topology=sfu', { relay: false, topology: 'sfu', problems: [] }, {}],
  ])('%s', (_name, search, switches, options) => {
    expect(readSwitches(search)).toEqual(switches);
    expect(connectOptionsOf(readSwitches(search))).toEqual(options);
  });

  it('reports switches it does not understand instead of ignoring them silently', () => {
    expect(readSwitches('?transport=carrier-pigeon&relay=maybe&topology=star').problems).toEqual([
      '?transport=carrier-pigeon is not one of ws, sse or poll; using the normal ladder',
      '?relay=maybe is not 1 or 0; not forcing TURN',
      '?topology=star is not one of mesh, sfu or auto; choosing by room size',
    ]);
  });

  it('carries only the diagnostic switches into the call URL', () => {
    expect(switchesQuery('?name=x&relay=1&transport=sse&utm=y')).toBe('?transport=sse&relay=1');
    expect(switchesQuery('?topology=mesh&name=x')).toBe('?topology=mesh');
    expect(switchesQuery('?name=x')).toBe('');
  });
});

describe('connection badge', () => {
  const report = (over: Partial<ConnectivityReport>): ConnectivityReport => ({
    state: 'connected',
    gen: 0,
    timestamp: 0,
    candidateType: { local: 'host', remote: 'host' },
    protocol: 'udp',
    rttMs: 3.4,
    bytesSent: 0,
    bytesReceived: 0,
    bitrate: {},
    transport: 'hub/ws',
    ...over,
  });

  it.each([
    ['host ↔ host', {}, 'direct', 'direct udp · 3 ms'],
    ['peer-reflexive counts as direct', { candidateType: { local: 'prflx', remote: 'host' } }, 'direct', 'direct udp · 3 ms'],
    ['server-reflexive', { candidateType: { local: 'srflx', remote: 'host' } }, 'stun', 'STUN udp · 3 ms'],
    ['our relay over TLS', { candidateType: { local: 'relay', remote: 'srflx' }, protocol: 'tcp', relayProtocol: 'tls' }, 'turn', 'TURN tls · 3 ms'],
    ['their relay', { candidateType: { local: 'host', remote: 'relay' } }, 'turn', 'TURN udp · 3 ms'],
    ['no RTT yet', { rttMs: undefined }, 'direct', 'direct udp'],
    ['no pair yet', { state: 'connecting', candidateType: {} }, 'connecting', 'connecting'],
    ['failed', { state: 'failed' }, 'connecting', 'failed'],
  ] as const)('%s', (_name, over, kind, text) => {
    const badge = describeConnection(report(over as Partial<ConnectivityReport>));
    expect(badge).toMatchObject({ kind, text });
  });

  it('names the signaling transport in the tooltip', () => {
    expect(describeConnection(report({ transport: 'hub/poll' })).title).toContain('signaling over poll');
  });

  it('through the SFU: the layer asked for and the bitrate, the path to the SFU and the size in the tooltip', () => {
    const video = { width: 320, height: 240, bytesReceived: 1, timestamp: 1, kbps: 480 };
    expect(describeSfu({ path: report({}), layer: 'h', video })).toEqual({
      kind: 'sfu',
      text: 'via SFU · h · 480 kbit/s',
      title: 'media through the SFU, layer h, 320×240; to the SFU: media direct, host ↔ host over udp; signaling over ws',
    });
    expect(describeSfu({ path: report({}), layer: null }).text).toBe('via SFU · paused');
    expect(describeSfu({ path: report({ state: 'connecting', candidateType: {} }), layer: 'q' })).toMatchObject({ kind: 'connecting', text: 'connecting' });
  });
});

describe('simulcast layer by tile size', () => {
  it.each([
    [0, true, null],
    [160, true, 'q'],
    [240, true, 'q'],
    [320, true, 'h'],
    [480, true, 'h'],
    [481, true, 'f'],
    [1280, false, null],
  ] as const)('%i px wide, visible %s → %s', (width, visible, rid) => {
    expect(layerFor(width, visible)).toBe(rid);
  });
});

describe('media errors in plain words', () => {
  const domError = (name: string) => Object.assign(new Error('browser says no'), { name });
  const wrapped = (name: string) => Object.assign(new Error('getUserMedia: browser says no', { cause: domError(name) }), { name: 'PeerError' });

  it.each([
    ['NotAllowedError', 'Pinhole is not allowed to use your camera and microphone.'],
    ['NotFoundError', 'No camera or microphone was found.'],
    ['NotReadableError', 'Your camera or microphone is busy or not working.'],
    ['OverconstrainedError', 'The chosen device is no longer available.'],
    ['SecurityError', 'The browser blocked media on this page.'],
  ])('%s (as the SDK wraps it)', (name, title) => {
    expect(explainMediaError(wrapped(name)).title).toBe(title);
  });

  it('screen sharing has its own words, and unknown errors quote the browser', () => {
    expect(explainMediaError(wrapped('NotAllowedError'), 'screen').title).toBe('Screen sharing was cancelled or blocked.');
    expect(explainMediaError(wrapped('WeirdError')).advice).toBe('The browser said: browser says no');
  });
});

describe('formatting', () => {
  it.each([
    [0, '0 B'],
    [999, '999 B'],
    [1500, '1.5 kB'],
    [20_971_520, '21.0 MB'],
    [123_456_789, '123 MB'],
  ])('%d bytes → %s', (bytes, text) => expect(formatBytes(bytes)).toBe(text));

  it.each([
    [Infinity, '—'],
    [4.4, '4 s'],
    [125, '2 min 5 s'],
    [3700, '1 h 1 min'],
  ])('%d s → %s', (seconds, text) => expect(formatEta(seconds)).toBe(text));
});
