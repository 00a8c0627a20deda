/**
 * GStreamer's webrtcbin publishing over WHIP into a real `pinhole serve`, and playing a room over
 * WHEP: ICE (libnice), DTLS, SRTP, RTP and the decoders are GStreamer's, a stack nobody here
 * wrote; test/gst/whip_publish.py and whep_play.py only do the HTTP (wish.py; Debian's
 * simple-whip-client aborts on bookworm: libsoup2 and libsoup3 in one process). libnice gathers
 * no loopback candidates, so the server runs in a network namespace (the public segment) and
 * each client on a host of its own (ARCHITECTURE.md "Test topologies"). The gateway's metrics
 * prove the published media: the session starts, RTP packets of the test pattern arrive,
 * candidates trickle in PATCHes, and the client's DELETE on Ctrl-C ends it; the player prints
 * the frames it decoded.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mintToken } from '@pinhole/server';
import { bundleCli } from '@pinhole/test-kit/cli-bundle';
import { PUBLIC_IP, Topology, netnsUnavailable, type Spawned } from '@pinhole/test-kit/netns/topology';

const SECRET = 'gstreamer-whip-test-secret-0123456789';
const HUB = `http://${PUBLIC_IP}:8443`;

const PUBLISHER = fileURLToPath(new URL('./gst/whip_publish.py', import.meta.url));
const PLAYER = fileURLToPath(new URL('./gst/whep_play.py', import.meta.url));

/** Whether Debian's python3-gi can load GStreamer's webrtcbin, VP8 and Opus encoders and libnice. */
function gstreamerMissing(): string | undefined {
  const probe =
    "import gi; gi.require_version('Gst','1.0'); gi.require_version('GstWebRTC','1.0'); gi.require_version('GstSdp','1.0'); " +
    "from gi.repository import Gst; Gst.init(None); " +
    "missing=[e for e in ('webrtcbin','vp8enc','opusenc','vp8dec','opusdec','decodebin','nicesrc') if not Gst.ElementFactory.find(e)]; assert not missing, missing";
  try {
    execFileSync('/usr/bin/python3', ['-c', probe], { stdio: 'pipe' });
    return undefined;
  } catch (err) {
    return `GStreamer's webrtcbin is not usable from /usr/bin/python3 (apt-get install python3-gi gir1.2-gst-plugins-bad-1.0 gstreamer1.0-nice gstreamer1.0-plugins-good gstreamer1.0-plugins-bad; scripts/test.sh installs them): ${String((err as { stderr?: Buffer }).stderr ?? err).trim().split('\n').pop()}`;
  }
}

const unavailable = netnsUnavailable() ?? gstreamerMissing();
if (unavailable) console.warn(`netns-gstreamer: skipped, ${unavailable}`);

describe.skipIf(unavailable !== undefined)(`GStreamer publishing over WHIP and playing over WHEP${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  let t: Topology;
  let dataDir: string;
  let cli: string;
  // A topology per attempt, so a retry starts from fresh namespaces.
  beforeEach(async () => {
    cli = await bundleCli();
    t = Topology.create();
    dataDir = mkdtempSync(join(tmpdir(), 'pinhole-gst-'));
  }, 60_000);
  afterEach(async () => {
    await t?.destroy();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** The sum of a hub metric's samples with `labels` (e.g. `{reason="deleted"}`), scraped from inside pub. */
  async function metric(name: string, labels = ''): Promise<number> {
    const scrape = t.spawn(t.pub, [process.execPath, '-e', `fetch('${HUB}/metrics').then((r) => r.text()).then((t) => console.log('METRICS ' + JSON.stringify(t)))`]);
    const text = JSON.parse((await scrape.waitFor(/^METRICS (.*)$/m, 15_000))[1]!) as string;
    await scrape.stop();
    const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
    return line ? Number(line.split(' ')[1]) : 0;
  }

  async function until(check: () => Promise<boolean>, what: string, ms = 30_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  async function serve(): Promise<Spawned> {
    const hub = t.spawn(t.pub, [process.execPath, cli, 'serve', '--host', PUBLIC_IP, '--port', '8443', '--no-tls', '--turn-port', '0', '--data-dir', dataDir, '--secret', SECRET]);
    await hub.waitFor(/"msg":"hub listening"/);
    return hub;
  }

  it('a VP8 + Opus test pattern arrives through the gateway; Ctrl-C DELETEs the session', async () => {
    const hub = await serve();
    const studio = t.host('studio', 20);
    const token = await mintToken(SECRET, { identity: 'gstreamer', room: 'stage', perms: ['publish'] }, 600);
    const client: Spawned = t.spawn(studio, ['/usr/bin/python3', PUBLISHER, `${HUB}/v1/whip/stage`, token]);
    try {
      await until(async () => (await metric('pinhole_gateway_sessions')) === 1, 'the WHIP session');
      // 15 fps of VP8 and 50 Opus packets a second: hundreds within seconds once ICE and DTLS are up.
      await until(async () => (await metric('pinhole_gateway_received_packets_total')) > 300, 'RTP from GStreamer', 45_000);
      expect(await metric('pinhole_gateway_refused_total', '{code="unauthorized"}')).toBe(0);
      // The candidates went by trickle: webrtcbin's offer holds none.
      expect(client.output()).toMatch(/^PATCH 204/m);
      expect(client.output()).not.toMatch(/^PATCH (?!204)/m);

      client.proc.kill('SIGINT');
      await client.waitFor(/^DELETE 200$/m, 15_000);
      expect(await metric('pinhole_gateway_sessions_ended_total', '{reason="deleted"}')).toBe(1);
      expect(await metric('pinhole_gateway_sessions')).toBe(0);
      console.info(`GStreamer publisher: ${client.output().trim().split('\n').filter((l) => /^(POST|PATCH|ice-|DELETE)/.test(l)).join(' | ')}`);
    } catch (err) {
      console.error(`publisher output:\n${client.output().slice(-4000)}\nhub output:\n${hub.output().slice(-4000)}`);
      throw err;
    }
  }, 150_000);

  it('GStreamer plays a GStreamer WHIP stream over WHEP: VP8 frames and Opus decoded; Ctrl-C DELETEs the viewing', async () => {
    const hub = await serve();
    const publisherToken = await mintToken(SECRET, { identity: 'gstreamer', room: 'stage', perms: ['publish'] }, 600);
    const publisher = t.spawn(t.host('studio', 20), ['/usr/bin/python3', PUBLISHER, `${HUB}/v1/whip/stage`, publisherToken]);
    let player: Spawned | undefined;
    try {
      await until(async () => (await metric('pinhole_gateway_received_packets_total')) > 100, 'RTP from the GStreamer publisher', 45_000);
      const viewerToken = await mintToken(SECRET, { identity: 'lobby-screen', room: 'stage', perms: ['join'] }, 600);
      player = t.spawn(t.host('screen', 21), ['/usr/bin/python3', PLAYER, `${HUB}/v1/whep/stage`, viewerToken]);
      await player.waitFor(/^POST 201 \/v1\/resources\//m, 20_000);
      expect(await metric('pinhole_gateway_viewers', '{room="stage"}')).toBe(1);
      // 15 fps from the publisher: 60 frames is four seconds of decoded video.
      const decoded = async (): Promise<{ video_frames: number; width: number; height: number; audio_buffers: number }> => {
        const lines = [...player!.output().matchAll(/^DECODED (.*)$/gm)];
        return lines.length ? JSON.parse(lines.at(-1)![1]!) : { video_frames: 0, width: 0, height: 0, audio_buffers: 0 };
      };
      await until(async () => (await decoded()).video_frames > 60, 'decoded video at the GStreamer player', 45_000);
      const last = await decoded();
      expect(last).toMatchObject({ width: 320, height: 240 });
      await until(async () => (await decoded()).audio_buffers > 50, 'decoded audio at the GStreamer player', 15_000);

      player.proc.kill('SIGINT');
      await player.waitFor(/^DELETE 200$/m, 15_000);
      expect(await metric('pinhole_gateway_viewers', '{room="stage"}')).toBe(0);
      expect(await metric('pinhole_gateway_sessions_ended_total', '{reason="deleted"}')).toBe(1);
      console.info(`GStreamer player: ${player.output().trim().split('\n').filter((l) => /^(POST|PATCH|ice-|DELETE)/.test(l)).join(' | ')}; decoded ${JSON.stringify(await decoded())}`);
    } catch (err) {
      console.error(`player output:\n${player?.output().slice(-4000)}\npublisher output:\n${publisher.output().slice(-3000)}\nhub output:\n${hub.output().slice(-3000)}`);
      throw err;
    }
  }, 150_000);
});
