import { pino } from 'pino';
import { startHub, type HubOptions, type ListenOptions, type RunningHub } from '../../src/index.js';
import { TestClient, type ClientOptions, type TransportName } from './client.js';

let prefixes = 0;
/**
 * With PINHOLE_TEST_REDIS=redis://… every test hub is a cluster node on that Redis (its
 * own key prefix): the single-node suites then run against the Redis core unchanged.
 */
const clusterRedis = process.env.PINHOLE_TEST_REDIS;

/** A hub on a free loopback port, quiet logs; closed by `stop`. */
export async function startTestHub(options: HubOptions & ListenOptions = {}): Promise<RunningHub> {
  const cluster: HubOptions = clusterRedis ? { redis: clusterRedis, redisPrefix: `c${process.pid}-${++prefixes}:` } : {};
  return startHub({ host: '127.0.0.1', port: 0, logger: pino({ level: 'silent' }), ...cluster, ...options });
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
