/**
 * getUserMedia / getDisplayMedia failures in plain words. The SDK wraps them in a
 * PeerError('media-failed') whose `cause` is the browser's DOMException; its `name` says
 * what happened (W3C Media Capture and Streams §9.2, getUserMedia errors).
 */
export interface MediaProblem {
  /** One sentence: what happened. */
  title: string;
  /** What to do about it. */
  advice: string;
}

export function explainMediaError(err: unknown, what: 'camera and microphone' | 'screen' = 'camera and microphone'): MediaProblem {
  const name = domErrorName(err);
  switch (name) {
    case 'NotAllowedError':
    case 'PermissionDeniedError':
      return what === 'screen'
        ? { title: 'Screen sharing was cancelled or blocked.', advice: 'Choose a screen, window or tab to share, or allow screen sharing in your browser settings.' }
        : {
            title: 'Pinhole is not allowed to use your camera and microphone.',
            advice: 'Click the camera icon in the address bar (or your browser\u2019s site settings), allow camera and microphone, then try again. You can still join without them.',
          };
    case 'NotFoundError':
    case 'DevicesNotFoundError':
      return { title: 'No camera or microphone was found.', advice: 'Plug one in and try again, or join without them: you can still see, hear and chat with the others.' };
    case 'NotReadableError':
    case 'TrackStartError':
      return { title: 'Your camera or microphone is busy or not working.', advice: 'Close other apps or tabs that may be using it (another video call?), then try again.' };
    case 'OverconstrainedError':
      return { title: 'The chosen device is no longer available.', advice: 'Pick another camera or microphone from the list.' };
    case 'SecurityError':
      return { title: 'The browser blocked media on this page.', advice: 'Open Pinhole over https:// (or on localhost); browsers only allow cameras on secure pages.' };
    case 'AbortError':
      return { title: `Starting the ${what} was interrupted.`, advice: 'Try again; if it keeps happening, restart the browser.' };
    default:
      if (typeof navigator !== 'undefined' && !navigator.mediaDevices) {
        return { title: 'This page cannot use cameras.', advice: 'Open Pinhole over https:// (or on localhost); browsers only offer cameras to secure pages.' };
      }
      return { title: `The ${what} could not be started.`, advice: `The browser said: ${messageOf(err)}` };
  }
}

/** The browser's DOMException name inside an SDK error (or the error itself). */
export function domErrorName(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 4; depth++) {
    const name = (e as { name?: unknown }).name;
    if (typeof name === 'string' && name !== 'PeerError' && name !== 'Error') return name;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

function messageOf(err: unknown): string {
  const cause = (err as { cause?: unknown })?.cause;
  const inner = cause instanceof Error ? cause : err;
  return inner instanceof Error ? inner.message : String(inner);
}
