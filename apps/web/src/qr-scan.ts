/**
 * Scanning a QR code with the camera: getUserMedia (the back camera on phones), frames
 * drawn onto a canvas a few times a second and decoded with jsQR. Stops at the first
 * code `accept` takes; other QR codes are named and scanning goes on. A camera that
 * cannot be used is explained in plain words; pasting the code always remains.
 */
import jsQRModule from 'jsqr';
import { h } from './dom.js';

/**
 * jsqr is CommonJS with `exports.default`: the bundler hands back the function itself,
 * TypeScript (NodeNext) types the import as the exports object.
 */
const jsQR: typeof jsQRModule.default = typeof jsQRModule === 'function' ? jsQRModule : jsQRModule.default;

export interface Scanner {
  el: HTMLElement;
  stop(): void;
}

export interface ScanOptions {
  /** Whether a decoded text is what we look for; else `wrongCode` is shown and scanning goes on. */
  accept(text: string): boolean;
  found(text: string): void;
  /** The camera could not be used (`message` says why and what to do). */
  failed(message: string): void;
  wrongCode: string;
}

/** Frames decoded per second: enough to feel instant, little enough for a phone's CPU. */
const SCANS_PER_SECOND = 6;
/** jsQR's time grows with the pixel count; a QR code filling part of the frame stays readable. */
const MAX_SCAN_WIDTH = 960;

export function scanQr(options: ScanOptions): Scanner {
  const video = h('video', { autoplay: true, playsinline: true, muted: true, 'aria-label': 'Camera view for scanning' });
  video.muted = true;
  const status = h('p', { class: 'hint', role: 'status' }, 'Starting the camera…');
  const stopButton = h('button', { type: 'button', class: 'secondary', onclick: () => stop() }, 'Stop scanning');
  const el = h('div', { class: 'scanner' }, video, status, stopButton);
  const canvas = document.createElement('canvas');
  const context = canvas.getContext('2d', { willReadFrequently: true })!;
  let stream: MediaStream | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;

  function stop(): void {
    stopped = true;
    clearTimeout(timer);
    for (const track of stream?.getTracks() ?? []) track.stop();
    video.srcObject = null;
    el.remove();
  }

  function scan(): void {
    if (stopped) return;
    if (video.videoWidth > 0) {
      const scale = Math.min(1, MAX_SCAN_WIDTH / video.videoWidth);
      canvas.width = Math.round(video.videoWidth * scale);
      canvas.height = Math.round(video.videoHeight * scale);
      context.drawImage(video, 0, 0, canvas.width, canvas.height);
      const image = context.getImageData(0, 0, canvas.width, canvas.height);
      // Screens show dark modules on light; 'attemptBoth' would double the work per frame.
      const text = jsQR(image.data, image.width, image.height, { inversionAttempts: 'dontInvert' })?.data;
      if (text !== undefined && text !== '') {
        if (options.accept(text)) {
          stop();
          options.found(text);
          return;
        }
        status.textContent = options.wrongCode;
      }
    }
    timer = setTimeout(scan, 1000 / SCANS_PER_SECOND);
  }

  void (async () => {
    try {
      if (!navigator.mediaDevices) throw new DOMException('no mediaDevices', 'SecurityError');
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false });
    } catch (err) {
      stop();
      options.failed(explainCameraError(err));
      return;
    }
    if (stopped) return void stream.getTracks().forEach((t) => t.stop());
    video.srcObject = stream;
    await video.play().catch(() => undefined);
    status.textContent = 'Point the camera at the QR code on the other screen.';
    scan();
  })();

  return { el, stop };
}

/** W3C Media Capture §9.2 error names, for a camera wanted only to read a code. */
export function explainCameraError(err: unknown): string {
  const name = (err as { name?: unknown } | null)?.name;
  const paste = 'You can paste the code instead: copy it on the other device and send it to yourself.';
  switch (name) {
    case 'NotAllowedError':
    case 'PermissionDeniedError':
      return `Pinhole is not allowed to use the camera, so it cannot scan. Allow the camera in the address bar\u2019s site settings and try again. ${paste}`;
    case 'NotFoundError':
    case 'OverconstrainedError':
      return `No camera was found to scan with. ${paste}`;
    case 'NotReadableError':
      return `The camera is busy (another app or tab may be using it). ${paste}`;
    case 'SecurityError':
      return `This page may not use cameras: open it over https://. ${paste}`;
    default:
      return `The camera could not be started (${err instanceof Error ? err.message : String(err)}). ${paste}`;
  }
}
