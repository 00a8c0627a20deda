import { afterEach, describe, expect, it } from 'vitest';
import { handler } from '../../../examples/serverless-relay/handler.js';
import { SERVER_PEER, mintToken, type RunningHub } from '../src/index.js';
import type { TestClient } from './support/client.js';
import { joined, testCores } from './support/hub.js';

const cores = testCores();

describe.each(cores)('$name core', (core) => {
  let hub: RunningHub;
  let peer: TestClient;
  afterEach(async () => {
    await peer?.close();
    await hub.close();
  });

  it('the serverless relay example delivers a signal to a WebSocket peer with one request', async () => {
    hub = await core.start({ secret: 's3cret-hub', apiKeys: ['fn-key'] });
    peer = await joined(hub, 'demo', { token: await mintToken('s3cret-hub', { identity: 'browser' }, 60) });
    const env = { PINHOLE_URL: hub.url, PINHOLE_API_KEY: 'fn-key' };
    const invoke = (body: unknown) => handler(new Request('https://fn.example/', { method: 'POST', body: JSON.stringify(body) }), env);

    const res = await invoke({ room: 'demo', to: peer.peer, data: { candidate: 'x' }, id: 'req-1' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ delivered: 1 });
    expect(await peer.next((f) => f.type === 'signal')).toMatchObject({ from: SERVER_PEER, data: { candidate: 'x' } });

    const retry = await invoke({ room: 'demo', to: peer.peer, data: { candidate: 'x' }, id: 'req-1' });
    expect(await retry.json()).toMatchObject({ delivered: 0, duplicate: true });

    const bad = await invoke({ room: 'demo', to: 'ghost', data: 1 });
    expect(bad.status).toBe(404);
    expect(await bad.json()).toMatchObject({ code: 'unknown-peer' });
    expect((await invoke({ nope: true })).status).toBe(400);
  });
});
