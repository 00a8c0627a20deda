/**
 * `pinhole serve` embeds the WHIP gateway on its port (docs/whip-whep.md): loaded on the first
 * WHIP request, guarded by the hub's tokens, with the embedded TURN server's credentials in
 * its Link headers, and torn down with serve.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mintToken } from '@pinhole/server';
import { request, startServeCli, stopAll, tempDirs } from '@pinhole/test-kit/cli';
import { publishingPeer } from '@pinhole/test-kit/media-peer';

const dirs = tempDirs();
afterEach(async () => {
  await stopAll();
  dirs.cleanup();
});

const SECRET = 'serve-whip-test-secret-0123456789';

describe('pinhole serve: WHIP on the hub port', () => {
  it('publishes with a publish token (201 + answer + Location), refuses without one (401), DELETE ends it', async () => {
    const s = await startServeCli(['--host', '127.0.0.1', '--port', '0', '--turn-port', '0', '--data-dir', dirs.make(), '--secret', SECRET]);
    const { url, tls } = s.server;
    const publisher = await publishingPeer();
    try {
      const headers = { 'content-type': 'application/sdp' };
      const refused = await request(`${url}/v1/whip/stage`, { method: 'POST', body: publisher.offer, headers, ca: tls!.cert });
      expect(refused.status).toBe(401);
      expect(JSON.parse(refused.body)).toMatchObject({ type: 'error', code: 'unauthorized' });

      const token = await mintToken(SECRET, { identity: 'obs', room: 'stage', perms: ['publish'] }, 600);
      const auth = { authorization: `Bearer ${token}` };
      const created = await request(`${url}/v1/whip/stage?name=OBS`, { method: 'POST', body: publisher.offer, headers: { ...headers, ...auth }, ca: tls!.cert });
      expect(created.status, created.body).toBe(201);
      expect(created.headers['content-type']).toBe('application/sdp');
      expect(created.body).toMatch(/^v=0\r\n/);
      const location = created.headers.location!;
      expect(location).toMatch(/^\/v1\/resources\//);
      await publisher.accept(created.body);

      // A malformed resource id under the prefix: the hub's own 404.
      expect((await request(`${url}/v1/resources/not%20an%20id`, { method: 'DELETE', headers: auth, ca: tls!.cert })).status).toBe(404);
      const deleted = await request(url + location, { method: 'DELETE', headers: auth, ca: tls!.cert });
      expect(deleted.status).toBe(200);
      expect((await request(url + location, { method: 'DELETE', headers: auth, ca: tls!.cert })).status).toBe(404);

      const metrics = (await request(`${url}/metrics`, { ca: tls!.cert })).body;
      expect(metrics).toMatch(/^pinhole_gateway_sessions 0$/m);
      expect(metrics).toMatch(/^pinhole_gateway_sessions_total 1$/m);
      expect(metrics).toMatch(/^pinhole_gateway_sessions_ended_total\{reason="deleted"\} 1$/m);
      expect(metrics).toMatch(/^pinhole_gateway_refused_total\{code="unauthorized"\} 1$/m);
      expect(metrics).toMatch(/^pinhole_gateway_refused_total\{code="not-found"\} 1$/m);
      // One layer, no REMB from anyone: nothing to switch (chromium-remb.test.ts counts switches).
      expect(metrics).toMatch(/^pinhole_sfu_bandwidth_layer_switches_total 0$/m);
    } finally {
      publisher.close();
    }
    expect(await s.stop()).toBe(0);
  });

  it('hands out the embedded TURN server in Link headers to an authenticated OPTIONS', async () => {
    const s = await startServeCli(['--host', '127.0.0.1', '--port', '0', '--turn-port', '0', '--data-dir', dirs.make(), '--secret', SECRET, '--turn-url', 'turn:turn.example:3478']);
    const token = await mintToken(SECRET, { identity: 'obs', room: 'stage', perms: ['publish'] }, 600);
    const res = await request(`${s.server.url}/v1/whip/stage`, { method: 'OPTIONS', headers: { authorization: `Bearer ${token}` }, ca: s.server.tls!.cert });
    expect(res.status).toBe(204);
    expect(String(res.headers.link)).toMatch(/^<turn:turn\.example:3478>; rel="ice-server"; username="\d+:obs"; credential="[^"]+"; credential-type="password"$/);
  });
});
