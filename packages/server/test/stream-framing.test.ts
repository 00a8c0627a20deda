import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SignalDelivery } from '@pinhole/protocol';
import type { RunningHub } from '../src/index.js';
import type { TestClient } from './support/client.js';
import { TRANSPORTS, joined, testCores } from './support/hub.js';

// Multi-byte UTF-8 of every width: the SSE transport frames its chunks itself, so a chunk
// size counted in characters instead of bytes would break the stream here.
const TEXTS = ['plain', 'é ü ß', '日本語のテキスト', '🎉 emoji 🚀', 'a\u0301 combining', 'line\nbreak\r\nand "quotes"'];

const cores = testCores();

describe.each(cores)('$name core', (core) => {
  let hub: RunningHub;
  let clients: TestClient[] = [];
  beforeEach(async () => {
    hub = await core.start({ pollHoldMs: 2000 });
  });
  afterEach(async () => {
    await Promise.all(clients.map((c) => c.close()));
    clients = [];
    await hub.close();
  });

  describe.each(TRANSPORTS)('stream framing, receiver on %s', (transport) => {
    it('delivers multi-byte frames intact, one by one and replayed together after a drop', async () => {
      const a = await joined(hub, 'framing', { transport: 'ws' });
      const b = await joined(hub, 'framing', { transport });
      clients.push(a, b);
      await a.until(() => a.received.some((f) => f.type === 'peer-joined'));

      // One at a time: each frame is written on its own.
      for (const text of TEXTS) a.send({ type: 'signal', to: b.peer, data: { text } });
      await b.until(() => b.received.filter((f) => f.type === 'signal').length === TEXTS.length);

      // While b is away the frames wait in its replay buffer; on resume they go out in one write.
      b.drop();
      for (const text of TEXTS) a.send({ type: 'signal', to: b.peer, data: { text, again: true } });
      // A pong carrying the ping's id as lastId: every signal before it was applied (queued for b).
      const ping = a.send({ type: 'ping' });
      await a.next((f) => f.type === 'pong' && f.lastId >= ping);
      if (core.capabilities.localStats) expect(hub.hub.stats().unacked).toBeGreaterThanOrEqual(TEXTS.length);
      await b.resume();
      await b.until(() => b.received.filter((f) => f.type === 'signal').length === 2 * TEXTS.length);

      const data = b.received.filter((f): f is SignalDelivery => f.type === 'signal').map((f) => f.data);
      expect(data).toEqual([...TEXTS.map((text) => ({ text })), ...TEXTS.map((text) => ({ text, again: true }))]);
      expect(b.gaps).toEqual([]);
    });
  });
});
