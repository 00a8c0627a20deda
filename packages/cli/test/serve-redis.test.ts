/** `pinhole serve --redis`: the option from flag, environment and config file; a real Redis. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { TestRedis } from '@pinhole/test-kit/redis';
import { freeTcpPort } from '@pinhole/test-kit/ports';
import { buildHubOptions, resolveOptions, serveOptions } from '../src/index.js';
import { get, run, startServeCli, stopAll, tempDirs } from '@pinhole/test-kit/cli';

const dirs = tempDirs();
let redis: TestRedis;
beforeAll(async () => {
  redis = await TestRedis.start();
});
afterAll(() => redis.stop());
afterEach(async () => {
  await stopAll();
  dirs.cleanup();
});

const hubOptions = (argv: string[], env: Record<string, string> = {}) =>
  buildHubOptions(resolveOptions(serveOptions, ['--data-dir', dirs.make(), ...argv], env, 'serve').values, { logger: pino({ level: 'silent' }), tls: undefined, turn: undefined, stunUrls: [] });

it.each([
  ['--redis', ['--redis', 'redis://10.0.0.5:6379', '--node-id', 'n1'], {}],
  ['PINHOLE_REDIS', [], { PINHOLE_REDIS: 'redis://10.0.0.5:6379', PINHOLE_NODE_ID: 'n1' }],
])('%s turns on the Redis bus', (_name, argv, env) => {
  expect(hubOptions(argv, env)).toMatchObject({ redis: 'redis://10.0.0.5:6379', nodeId: 'n1' });
});

it('reads redis from the config file, and leaves it out when unset', () => {
  const dir = dirs.make();
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ redis: 'rediss://cache.example:6380' }));
  expect(hubOptions(['--config', join(dir, 'config.json')])).toMatchObject({ redis: 'rediss://cache.example:6380' });
  expect(hubOptions([])).not.toHaveProperty('redis');
});

it('refuses a URL that is not redis:// with a usage error', async () => {
  const result = await run(['serve', '--redis', 'http://10.0.0.5:6379']);
  expect(result.code).toBe(2);
  expect(result.stderr).toBe('pinhole: --redis: "http://10.0.0.5:6379" is not a redis: or rediss: URL\n');
});

it('serves as a cluster node: /healthz names the node and its Redis, and an unreachable Redis stops start-up', async () => {
  const served = await startServeCli(['--no-tls', '--host', '127.0.0.1', '--port', '0', '--turn-port', '0', '--data-dir', dirs.make(), '--redis', redis.url, '--node-id', 'cli-node']);
  const health = await get(`http://127.0.0.1:${served.server.port}/healthz`);
  expect(health.status).toBe(200);
  expect(JSON.parse(health.body)).toMatchObject({ status: 'ok', node: 'cli-node', redis: 'ready' });
  const metrics = await get(`http://127.0.0.1:${served.server.port}/metrics`);
  expect(metrics.body).toContain('pinhole_redis_up{node="cli-node"} 1');
  // No embedded SFU on a cluster node: each node's would join every room (docs/protocol/sfu.md §15.5).
  expect(await served.server.sfu).toBeUndefined();

  const nobody = await freeTcpPort();
  const failed = await run(['serve', '--no-tls', '--host', '127.0.0.1', '--port', '0', '--turn-port', '0', '--data-dir', dirs.make(), '--redis', `redis://127.0.0.1:${nobody}`]);
  expect(failed.code).toBe(1);
  expect(failed.stderr).toMatch(/hub failed to start on 127\.0\.0\.1:0: cannot reach Redis/);
});
