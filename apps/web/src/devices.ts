/**
 * Camera and microphone pickers, on the landing page and in the call. A choice switches
 * the device with LocalMedia.switchDevice (RTCRtpSender.replaceTrack on every peer, so no
 * renegotiation and the others keep decoding) and is remembered in localStorage: the next
 * join starts with it. The lists follow devices being plugged in or out.
 */
import type { LocalMedia } from '@pinhole/client';
import { h } from './dom.js';
import { domErrorName } from './media-errors.js';

/** The kinds LocalMedia.switchDevice takes. */
export type DeviceKind = 'audioinput' | 'videoinput';

const STORAGE_KEYS: Record<DeviceKind, string> = { videoinput: 'pinhole.camera', audioinput: 'pinhole.mic' };

function remembered(kind: DeviceKind): string | null {
  return localStorage.getItem(STORAGE_KEYS[kind]);
}

/**
 * Starts camera and microphone with the devices chosen last time. They are asked for as
 * `exact`: Chromium does not always honour an `ideal` deviceId (it picks its default camera
 * instead). When a remembered device is gone (OverconstrainedError, NotFoundError), the
 * choice is forgotten and the defaults start.
 */
export async function startRemembered(media: LocalMedia): Promise<void> {
  const camera = remembered('videoinput');
  const mic = remembered('audioinput');
  const defaults = { audio: true, video: true };
  if (!camera && !mic) return void (await media.start(defaults));
  try {
    await media.start({ video: camera ? { deviceId: { exact: camera } } : true, audio: mic ? { deviceId: { exact: mic } } : true });
  } catch (err) {
    const name = domErrorName(err);
    if (name !== 'OverconstrainedError' && name !== 'NotFoundError') throw err;
    for (const key of Object.values(STORAGE_KEYS)) localStorage.removeItem(key);
    await media.start(defaults);
  }
}

export interface DevicePickers {
  camera: HTMLSelectElement;
  mic: HTMLSelectElement;
  /** Refills both lists and selects the devices `media` uses now. */
  refresh(): Promise<void>;
  /** Stops following device changes. */
  close(): void;
}

export interface DevicePickerOptions {
  /** Element ids of the two selects (the landing page and the call each have their own). */
  ids: { camera: string; mic: string };
  /** The media to switch; undefined while there is none (camera refused). */
  media(): LocalMedia | undefined;
  /** After a successful switch (the new track is in `media.stream`). */
  onSwitched?(kind: DeviceKind, track: MediaStreamTrack): void;
  onError(err: unknown): void;
}

export function devicePickers(options: DevicePickerOptions): DevicePickers {
  const camera = h('select', { id: options.ids.camera, 'aria-label': 'Camera', disabled: true });
  const mic = h('select', { id: options.ids.mic, 'aria-label': 'Microphone', disabled: true });

  async function refresh(): Promise<void> {
    const media = options.media();
    if (!media) return;
    const devices = await navigator.mediaDevices.enumerateDevices();
    const fill = (select: HTMLSelectElement, kind: DeviceKind, current: MediaStreamTrack | undefined): void => {
      const list = devices.filter((d) => d.kind === kind);
      select.replaceChildren(...list.map((d, i) => h('option', { value: d.deviceId }, d.label || `${kind === 'videoinput' ? 'Camera' : 'Microphone'} ${i + 1}`)));
      const id = current?.getSettings().deviceId;
      if (id) select.value = id;
      select.disabled = list.length < 2;
    };
    fill(camera, 'videoinput', media.cameraTrack);
    fill(mic, 'audioinput', media.audioTrack);
  }

  async function choose(kind: DeviceKind, select: HTMLSelectElement): Promise<void> {
    const media = options.media();
    if (!media) return;
    select.disabled = true;
    try {
      const track = await media.switchDevice(kind, select.value);
      localStorage.setItem(STORAGE_KEYS[kind], select.value);
      options.onSwitched?.(kind, track);
    } catch (err) {
      options.onError(err);
    } finally {
      // Back to what is really in use (the old device when the switch failed).
      await refresh();
    }
  }

  camera.addEventListener('change', () => void choose('videoinput', camera));
  mic.addEventListener('change', () => void choose('audioinput', mic));
  const onDeviceChange = (): void => void refresh();
  navigator.mediaDevices.addEventListener('devicechange', onDeviceChange);

  return { camera, mic, refresh, close: () => navigator.mediaDevices.removeEventListener('devicechange', onDeviceChange) };
}
