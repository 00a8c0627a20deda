/**
 * Switching camera and microphone in a running call, with Chromium's fake capture
 * exposing three cameras (`device-count=3`; it always has three fake microphones): the
 * local track and what the sender sends change, the other side keeps decoding, nothing
 * is renegotiated (the SDP of both sides stays the same: replaceTrack), and the choice
 * is used again on the next join. Fake camera 1 is a depth camera (Y16: Chromium sends
 * nothing from it), so the switch goes from camera 0 (I420) to camera 2 (MJPEG).
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it, onTestFinished } from 'vitest';
import { cleanupDirs, connectedStats, join, launchChromium, newParticipant, screenshotOnFailure, startHub, waitForVideoFrom, type Hub, type Participant } from './support.js';

let hub: Hub;
let browser: Browser;
let attempt = 0;

beforeAll(async () => {
  [hub, browser] = await Promise.all([startHub(), launchChromium(['--use-fake-device-for-media-stream=device-count=3'])]);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await hub?.stop();
  cleanupDirs();
});

interface Sent {
  /** What our own tile plays. */
  tile: { video?: string; audio?: string; videoId?: string };
  /** The tracks the (one) peer connection sends. */
  sender: { video?: string; audio?: string };
  /** Local SDP: a renegotiation would change it (new session version at least). */
  sdp?: string;
}

function sent(p: Participant): Promise<Sent> {
  return p.page.evaluate(() => {
    const stream = (document.querySelector('.tile[data-local] video') as HTMLVideoElement).srcObject as MediaStream;
    const pc = (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs.find((c) => c.connectionState === 'connected');
    const senders = pc?.getSenders() ?? [];
    const video = stream.getVideoTracks()[0];
    return {
      tile: { video: video?.label, audio: stream.getAudioTracks()[0]?.label, videoId: video?.getSettings().deviceId },
      sender: { video: senders.find((s) => s.track?.kind === 'video')?.track?.label, audio: senders.find((s) => s.track?.kind === 'audio')?.track?.label },
      sdp: pc?.localDescription?.sdp,
    };
  });
}

const framesFrom = async (p: Participant): Promise<number> => (await connectedStats(p.page)).reduce((n, s) => n + s.framesDecoded, 0);

/** Waits until `p` has decoded `more` frames beyond `from` (video keeps flowing). */
async function framesGrow(p: Participant, from: number, more = 20): Promise<void> {
  await expect.poll(() => framesFrom(p), { timeout: 15_000, interval: 250 }).toBeGreaterThan(from + more);
}

it('switches camera and microphone mid-call with replaceTrack; the other side keeps decoding; the choice is kept for the next join', async () => {
  const [ann, ben] = (await Promise.all([newParticipant(browser, 'Ann'), newParticipant(browser, 'Ben')])) as [Participant, Participant];
  screenshotOnFailure('device-switch', () => [ann, ben]);
  onTestFinished(() => Promise.all([ann.context.close(), ben.context.close()]).then(() => undefined));
  // A room of its own per attempt (a retry must not meet the first attempt's pages).
  const room = `devices-${++attempt}`;
  await join(ann, hub, room);
  await join(ben, hub, room);
  await Promise.all([waitForVideoFrom(ann, ['Ben']), waitForVideoFrom(ben, ['Ann'])]);

  await ann.page.click('[data-tab=devices]');
  const cameras = await ann.page.$$eval('#call-camera option', (o) => o.map((x) => ({ id: (x as HTMLOptionElement).value, label: x.textContent })));
  const mics = await ann.page.$$eval('#call-mic option', (o) => o.map((x) => ({ id: (x as HTMLOptionElement).value, label: x.textContent })));
  expect(cameras.map((c) => c.label)).toEqual(['fake_device_0', 'fake_device_1', 'fake_device_2']);
  expect(mics.length).toBeGreaterThanOrEqual(2);
  const before = await sent(ann);
  expect(before.tile.video).toBe('fake_device_0');
  expect(await ann.page.inputValue('#call-camera')).toBe(before.tile.videoId);
  const benSdp = (await sent(ben)).sdp;

  // Camera: the second fake device.
  const framesBefore = await framesFrom(ben);
  await ann.page.selectOption('#call-camera', cameras[2]!.id);
  await expect.poll(async () => (await sent(ann)).sender.video).toBe('fake_device_2');
  const afterCamera = await sent(ann);
  expect(afterCamera.tile.video).toBe('fake_device_2');
  expect(afterCamera.tile.videoId).toBe(cameras[2]!.id);
  expect(afterCamera.tile.videoId).not.toBe(before.tile.videoId);
  await framesGrow(ben, framesBefore);

  // Microphone: another fake input than the one in use.
  const otherMic = mics.find((m) => m.label !== before.tile.audio)!;
  await ann.page.selectOption('#call-mic', otherMic.id);
  await expect.poll(async () => (await sent(ann)).sender.audio).toBe(otherMic.label);
  expect((await sent(ann)).tile.audio).toBe(otherMic.label);
  await framesGrow(ben, await framesFrom(ben));
  // Ben still receives Ann's audio: inbound audio packets keep arriving on his side.
  const audioPackets = (): Promise<number> =>
    ben.page.evaluate(async () => {
      const pc = (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs.find((c) => c.connectionState === 'connected')!;
      return [...(await pc.getStats()).values()].find((s) => s.type === 'inbound-rtp' && s.kind === 'audio')?.packetsReceived ?? 0;
    });
  const packets = await audioPackets();
  await expect.poll(audioPackets, { timeout: 10_000 }).toBeGreaterThan(packets + 20);

  // No renegotiation: both sides' local descriptions are the ones from before the switches.
  expect((await sent(ann)).sdp).toBe(before.sdp);
  expect((await sent(ben)).sdp).toBe(benSdp);

  // Leave and join again: the landing preview and the call start with the chosen devices.
  await ann.page.click('[data-action=leave]');
  await ann.page.click('.left a.primary');
  await ann.page.waitForFunction(() => ((document.querySelector('.preview video') as HTMLVideoElement | null)?.srcObject as MediaStream | null)?.getVideoTracks()[0]?.label === 'fake_device_2');
  expect(await ann.page.inputValue('#camera')).toBe(cameras[2]!.id);
  expect(await ann.page.inputValue('#mic')).toBe(otherMic.id);
  await ann.page.click('.join-form button[type=submit]');
  await waitForVideoFrom(ben, ['Ann'], 30_000);
  await expect.poll(async () => (await sent(ann)).sender).toEqual({ video: 'fake_device_2', audio: otherMic.label });
  await framesGrow(ben, 0, 5);
}, 90_000);

it('a remembered device that is gone: the landing page starts the default camera and forgets the choice', async () => {
  const cat = await newParticipant(browser, 'Cat');
  screenshotOnFailure('device-gone', () => [cat]);
  onTestFinished(() => cat.context.close());
  await cat.page.goto(`${hub.url}/`);
  await cat.page.evaluate(() => localStorage.setItem('pinhole.camera', 'unplugged-camera'));
  await cat.page.reload();
  await cat.page.waitForFunction(() => ((document.querySelector('.preview video') as HTMLVideoElement | null)?.srcObject as MediaStream | null)?.getVideoTracks()[0]?.label === 'fake_device_0');
  expect(await cat.page.isHidden('.media-problem')).toBe(true);
  expect(await cat.page.evaluate(() => localStorage.getItem('pinhole.camera'))).toBeNull();
}, 30_000);
