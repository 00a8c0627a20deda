import { afterAll } from 'vitest';
import { pino } from 'pino';
import { startHub, type HubOptions, type ListenOptions, type RunningHub } from '../../src/index.js';
import { TestClient, type ClientOptions, type TransportName } from './client.js';
import { TestRedis } from '@pinhole/test-kit/redis';

export type CoreName = 'memory' | 'redis';

/**
 * One of the hub's two cores, as the shared suites see it. Every suite that tests hub rules
 * runs `describe.each(testCores())` so a rule cannot land in one core only; where the cores
 * differ by design, a test asks `capabilities` and asserts each core's documented behaviour.
 */
export interface TestCore {
  name: CoreName;
  capabilities: {
    /**
     * stats() counts detached sessions, replay buffers, rooms and memberships in this process,
     * and /metrics exports them (pinhole_rooms, pinhole_replay_buffer_*); /healthz `sessions`
     * counts every session. False (Redis core): only Redis knows them; /healthz `sessions`
     * counts the connections of this node and `cluster` the whole (docs/deployment.md).
     */
    localStats: boolean;
  };
  /** A hub on a free loopback port, quiet logs; closed by `close`. */
  start(options?: HubOptions & ListenOptions): Promise<RunningHub>;
}

let prefixes = 0;
let redis: Promise<TestRedis> | undefined;

const quiet = (options: HubOptions & ListenOptions): Promise<RunningHub> => startHub({ host: '127.0.0.1', port: 0, logger: pino({ level: 'silent' }), ...options });

const memory: TestCore = { name: 'memory', capabilities: { localStats: true }, start: (options = {}) => quiet(options) };

const onRedis: TestCore = {
  name: 'redis',
  capabilities: { localStats: false },
  async start(options = {}) {
    // One redis-server per test file (started on first use); each hub gets its own key
    // prefix, so hubs of different tests (or a retry) never meet each other's sessions.
    redis ??= TestRedis.start();
    const server = await redis;
    return quiet({ redis: server.url, redisPrefix: `c${process.pid}-${++prefixes}:`, ...options });
  },
};

/**
 * Both cores, for `describe.each(testCores())('$name core', (core) => …)`. Call it once at
 * the top of a test file: the Redis core's server stops after the file's tests.
 */
export function testCores(): TestCore[] {
  afterAll(async () => {
    const started = redis;
    redis = undefined;
    await (await started)?.stop();
  });
  return [memory, onRedis];
}

/** A hub with exactly `options` (memory core unless they name a Redis): tests of the cluster and of the listener (TLS, the shared port). */
export async function startTestHub(options: HubOptions & ListenOptions = {}): Promise<RunningHub> {
  return memory.start(options);
}

export const TRANSPORTS: TransportName[] = ['ws', 'sse', 'poll'];

/** Connects a client and joins `room`; returns it with its `joined` frame seen. */
export async function joined(hub: RunningHub, room: string, options: ClientOptions = {}, meta: Record<string, string> = {}): Promise<TestClient> {
  const client = new TestClient(hub.url, options);
  await client.connect();
  client.send({ type: 'join', room, meta });
  await client.next((f) => f.type === 'joined' && f.room === room);
  return client;
}
