/**
 * The options' split (docs/architecture.md, "Options and dependencies"): every option
 * lands in exactly one part, and the memory core's injected dependencies are the ones used.
 */
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { PeerInfo } from '@pinhole/protocol';
import { MemoryRoomStore, createHubServer, resolveOptions, type HubServer } from '../src/index.js';
import { splitOptions } from '../src/server.js';
import { RecordingDownstream } from './support/core.js';

let server: HubServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('splitOptions', () => {
  it('puts every resolved option in exactly one part', () => {
    const resolved = resolveOptions({});
    const parts = Object.values(splitOptions(resolved)).flatMap((part) => Object.keys(part));
    expect(parts.toSorted()).toEqual(Object.keys(resolved).toSorted());
    expect(new Set(parts).size).toBe(parts.length);
  });

  it('makes no bus or room store: only the memory core gets memory ones, at assembly', () => {
    const { deps } = splitOptions(resolveOptions({}));
    expect(deps.bus).toBeUndefined();
    expect(deps.rooms).toBeUndefined();
  });

  it('keeps maxWriteBufferBytes following maxReplayBytes unless set', () => {
    expect(splitOptions(resolveOptions({ maxReplayBytes: 100 })).limits.maxWriteBufferBytes).toBe(200);
    expect(splitOptions(resolveOptions({ maxReplayBytes: 100, maxWriteBufferBytes: 7 })).limits.maxWriteBufferBytes).toBe(7);
  });
});

describe('createHubServer', () => {
  it('the memory core uses the room store and clock it is given', async () => {
    const joins: string[] = [];
    class CountingRooms extends MemoryRoomStore {
      override join(room: string, member: PeerInfo, maxPeers: number): Promise<PeerInfo[] | 'full'> {
        joins.push(room);
        return super.join(room, member, maxPeers);
      }
    }
    const rooms = new CountingRooms();
    server = createHubServer({ logger: pino({ level: 'silent' }), rooms, now: () => 1234 });
    const { session } = await server.hub.hello({ type: 'hello' });
    const down = new RecordingDownstream();
    session.attach(down, 0);
    server.hub.receive(session, { type: 'join', id: 1, room: 'injected' });
    server.hub.receive(session, { type: 'ping', id: 2 });
    await server.hub.settled(session);
    expect(joins).toEqual(['injected']);
    expect(rooms.members('injected')).toHaveLength(1);
    expect(down.loose).toEqual([expect.objectContaining({ type: 'pong', time: 1234 })]);
  });

  it('exposes the metrics registry on the server (the core no longer carries it)', async () => {
    server = createHubServer({ logger: pino({ level: 'silent' }) });
    expect(await server.metrics.registry.metrics()).toContain('pinhole_frames_in_total');
    expect('metrics' in server.hub).toBe(false);
    expect('options' in server.hub).toBe(false);
  });
});
