/**
 * One hub node in its own process: `node node.mjs <redis-url|memory> <node-id>`. Listens on
 * 127.0.0.1 (free port), reports `{ ev: 'ready', port }` over IPC, exits with its parent.
 */
import pino from 'pino';
import { startHub } from '@pinhole/server';

const [redis, nodeId] = process.argv.slice(2);
process.on('disconnect', () => process.exit(0));
const hub = await startHub({
  host: '127.0.0.1',
  port: 0,
  ratePerSecond: Infinity,
  maxConnectionsPerIp: Infinity,
  logger: pino({ level: 'warn' }),
  ...(redis === 'memory' ? {} : { redis, nodeId }),
});
process.send({ ev: 'ready', port: hub.port });
process.on('message', async (msg) => {
  if (msg.cmd === 'stop') {
    await hub.close();
    process.exit(0);
  }
});
