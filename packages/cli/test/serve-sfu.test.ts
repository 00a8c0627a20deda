/**
 * The media server with `pinhole serve` (docs/protocol/sfu.md §15.5): embedded by default and
 * loaded when the hub gets its first room, it joins the rooms of its own hub as the
 * `service: "sfu"` member and shares one SFU with the WHIP gateway; `--no-sfu` leaves it out, and `pinhole sfu --hub URL --secret S` joins from outside.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { HubSignaler, nodePlatform, type Json } from '@pinhole/node';
import type { PeerInfo } from '@pinhole/protocol';
import type { SfuService } from '@pinhole/sfu';
import { capture, request, startServeCli, stopAll, tempDirs } from '@pinhole/test-kit/cli';
import { publishingPeer } from '@pinhole/test-kit/media-peer';
import { freeUdpPort } from '@pinhole/test-kit/ports';
import { until } from '@pinhole/test-kit/wait';
import { runCli } from '../src/cli.js';

const dirs = tempDirs();
const cleanup: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
  await stopAll();
  dirs.cleanup();
});

const SECRET = 'serve-sfu-test-secret-0123456789';

interface Member {
  signaler: HubSignaler;
  services: PeerInfo[];
  signals: Json[];
}

/** A member of `room` on the hub at `url` (self-signed certificate `ca`), recording service members and signals. */
async function member(url: string, ca: string, room: string, token?: string): Promise<Member> {
  const signaler = new HubSignaler(url, { platform: nodePlatform({ ca, proxy: false }), reconnect: false, ...(token ? { token } : {}) });
  cleanup.push(() => signaler.close());
  await signaler.open();
  const m: Member = { signaler, services: [], signals: [] };
  const seen = (p: PeerInfo): void => void (p.service !== undefined && m.services.push(p));
  signaler.on('peer-joined', ({ peer }) => seen(peer));
  signaler.on('signal', ({ data }) => m.signals.push(data));
  signaler.on('broadcast', ({ data }) => m.signals.push(data));
  (await signaler.join(room)).forEach(seen);
  return m;
}

describe('pinhole serve: the embedded SFU', () => {
  it('joins the first room as the service:"sfu" member and shares its SFU with WHIP (a WHIP publication is announced to the room)', async () => {
    const s = await startServeCli(['--host', '127.0.0.1', '--port', '0', '--turn-port', '0', '--data-dir', dirs.make()]);
    const { url, tls } = s.server;
    const alice = await member(url, tls!.cert, 'stage');
    // Loaded once the hub has a room, then in it.
    const service = await s.server.sfu;
    expect(service).toBeDefined();
    await until(() => alice.services.length === 1, 10_000, 'the SFU in the room');
    expect(alice.services[0]).toEqual({ peer: service!.peer, meta: { name: 'SFU' }, service: 'sfu' });

    // WHIP publishes into 'stage' (dev mode: no credential needed): the service's SFU is the
    // gateway's, so the room hears of the publication.
    const publisher = await publishingPeer();
    cleanup.push(() => publisher.close());
    const created = await request(`${url}/v1/whip/stage`, { method: 'POST', body: publisher.offer, headers: { 'content-type': 'application/sdp' }, ca: tls!.cert });
    expect(created.status, created.body).toBe(201);
    await until(() => alice.signals.length > 0, 10_000, 'pinhole:sfu-tracks');
    expect(alice.signals[0]).toMatchObject({ type: 'pinhole:sfu-tracks', tracks: [{ kind: 'video', rids: [] }] });
    expect(await s.stop()).toBe(0);
  });

  it('--sfu-ports and --sfu-max-publishers-per-room reach the SFU: WHIP answers with candidates in the range, a second publisher gets 503 over-capacity', async () => {
    const low = Math.min(await freeUdpPort(), 65_000);
    const s = await startServeCli(['--host', '127.0.0.1', '--port', '0', '--turn-port', '0', '--data-dir', dirs.make(), '--sfu-ports', `${low}-${low + 30}`, '--sfu-max-publishers-per-room', '1']);
    const { url, tls } = s.server;
    const whip = async (): Promise<{ status: number; body: string; headers: Record<string, unknown> }> => {
      const publisher = await publishingPeer();
      cleanup.push(() => publisher.close());
      return request(`${url}/v1/whip/stage`, { method: 'POST', body: publisher.offer, headers: { 'content-type': 'application/sdp' }, ca: tls!.cert });
    };
    const first = await whip();
    expect(first.status, first.body).toBe(201);
    const ports = first.body.split(/\r?\n/).filter((l) => l.startsWith('a=candidate:')).map((l) => Number(l.split(' ')[5]));
    expect(ports.length).toBeGreaterThan(0);
    for (const port of ports) expect(port >= low && port <= low + 30, `port ${port}`).toBe(true);
    const second = await whip();
    expect(second.status).toBe(503);
    expect(second.headers['retry-after']).toBe('10');
    expect(JSON.parse(second.body)).toMatchObject({ code: 'over-capacity' });
    expect(JSON.parse(second.body).message).toContain('publishersPerRoom 1');
    expect(await s.stop()).toBe(0);
  });

  it('--no-sfu leaves it out; `pinhole sfu --hub URL --secret S` then joins the rooms from its own process', async () => {
    const s = await startServeCli(['--host', '127.0.0.1', '--port', '0', '--turn-port', '0', '--data-dir', dirs.make(), '--secret', SECRET, '--no-sfu']);
    const { url, tls } = s.server;
    expect(await s.server.sfu).toBeUndefined();
    const { mintToken } = await import('@pinhole/server');
    const alice = await member(url, tls!.cert, 'call', await mintToken(SECRET, { identity: 'alice' }, 600));
    await new Promise((r) => setTimeout(r, 300));
    expect(alice.services).toEqual([]);

    const abort = new AbortController();
    const stderr = capture();
    let joined!: (service: SfuService) => void;
    const inHub = new Promise<SfuService>((r) => (joined = r));
    const done = runCli(['sfu', '--hub', url, '--secret', SECRET, '--insecure', '--log-level', 'warn'], {
      stdout: capture(),
      stderr,
      env: {},
      signal: abort.signal,
      handleSignals: false,
      onSfu: joined,
    });
    cleanup.push(async () => {
      abort.abort();
      await done;
    });
    const service = await Promise.race([inHub, done.then((code) => Promise.reject(new Error(`pinhole sfu exited ${code}: ${stderr.text}`)))]);
    await until(() => alice.services.length === 1, 10_000, 'the separate SFU in the room');
    expect(alice.services[0]).toEqual({ peer: service.peer, meta: { name: 'SFU' }, service: 'sfu' });

    // It serves requests: an offer that is not SDP gets a typed error back.
    alice.signaler.signal(service.peer, { type: 'pinhole:sfu-publish', sdp: 'nonsense' }, 'call');
    await until(() => alice.signals.length > 0, 10_000, 'an answer from the SFU');
    expect(alice.signals[0]).toMatchObject({ type: 'pinhole:sfu-error', code: 'bad-sdp', request: 'pinhole:sfu-publish' });
    abort.abort();
    expect(await done).toBe(0);
    await until(() => alice.services.length === 1 && service.rooms.length === 0, 5000, 'the SFU to leave');
  });

  it('`pinhole sfu` without a secret or token is a usage error', async () => {
    const stderr = capture();
    expect(await runCli(['sfu', '--hub', 'https://127.0.0.1:1'], { stdout: capture(), stderr, env: {} })).toBe(2);
    expect(stderr.text).toMatch(/--secret/);
  });
});
