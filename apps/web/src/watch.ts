/**
 * The watch page, /watch/<room>: plays the room's featured publisher (the gateway's choice:
 * docs/whip-whep.md) over WHEP, with no camera or microphone — a viewer is not a participant.
 * Every few seconds it asks the gateway how many watch and whether the room has video
 * (`GET /v1/whep/{room}`), starting to play when it has and starting over when the stream ends.
 * Like the call page, it sends no credentials: the hub must let it in (dev mode).
 */
import { h, replaceChildren } from './dom.js';
import { joinLink } from './rooms.js';
import { roomStatus, startWhep, WhepError, type WhepSession } from './whep.js';

export type WatchState = 'connecting' | 'playing' | 'waiting' | 'ended' | 'error';

/** How often the page asks the gateway about the room. */
const POLL_MS = 3000;

export function showWatch(app: HTMLElement, room: string): void {
  const endpoint = `${location.origin}/v1/whep/${encodeURIComponent(room)}`;
  const video = h('video', { autoplay: true, playsinline: true, class: 'watch-video', 'aria-label': `Live video of ${room}` });
  const stateLine = h('p', { class: 'watch-state', role: 'status' });
  const viewers = h('span', { class: 'watching' });
  const sound = h('button', { type: 'button', class: 'secondary small', 'data-action': 'sound', hidden: true, onclick: () => unmute() }, 'Turn sound on');
  replaceChildren(
    app,
    h(
      'div',
      { class: 'watch' },
      h('header', { class: 'call-header' }, h('h1', {}, room), viewers, h('a', { class: 'button primary small join-call', href: joinLink('', room) }, 'Join the call instead')),
      h('div', { class: 'watch-stage' }, video),
      h('div', { class: 'watch-bar' }, stateLine, sound),
    ),
  );
  document.title = `Watching ${room} · Pinhole`;

  let session: WhepSession | undefined;
  let state: WatchState = 'connecting';
  /** A POST is under way: polls leave it alone. */
  let connecting = false;
  let stopped = false;
  const waiting = `Nobody in ${room} is sending video yet. Trying again every few seconds…`;

  function show(next: WatchState, text: string): void {
    state = next;
    stateLine.dataset['state'] = next;
    stateLine.textContent = text;
  }

  function showViewers(n: number): void {
    viewers.textContent = n > 0 ? `${n} watching` : '';
    viewers.dataset['count'] = String(n);
  }

  function unmute(): void {
    video.muted = false;
    sound.hidden = true;
    void video.play().catch(() => undefined);
  }

  /** Browsers play sound only after a click on the page: try with sound, else muted with a button for it. */
  async function play(): Promise<void> {
    try {
      await video.play();
    } catch {
      video.muted = true;
      sound.hidden = false;
      await video.play().catch(() => undefined);
    }
  }

  function end(): void {
    session?.stop();
    session = undefined;
    video.srcObject = null;
    show('ended', 'The stream ended. Waiting for it to start again…');
  }

  function fail(err: WhepError): void {
    stopped = true;
    clearInterval(timer);
    show('error', `This server does not let you watch ${room}: ${err.message}.`);
  }

  async function connect(): Promise<void> {
    show('connecting', 'Connecting…');
    try {
      const s = await startWhep(endpoint);
      if (stopped) return s.stop();
      session = s;
      video.srcObject = s.stream;
      s.pc.addEventListener('connectionstatechange', () => {
        if (session === s && (s.pc.connectionState === 'failed' || s.pc.connectionState === 'closed')) end();
      });
      video.addEventListener('playing', () => session === s && show('playing', 'Live'), { once: true });
      void play();
    } catch (err) {
      if (err instanceof WhepError && (err.status === 401 || err.status === 403)) return fail(err);
      // 404: the publisher went between our look and the POST; anything else may pass too.
      show('waiting', err instanceof WhepError && err.status === 404 ? waiting : `Could not start playing (${(err as Error).message}). Trying again every few seconds…`);
    }
  }

  /** Asks the gateway about the room: shows the viewers, starts playing when there is video, ends when it is gone. */
  async function poll(): Promise<void> {
    if (stopped || connecting) return;
    let status;
    try {
      status = await roomStatus(endpoint);
    } catch (err) {
      if (err instanceof WhepError && (err.status === 401 || err.status === 403)) return fail(err);
      if (!session) show('waiting', 'The server does not answer. Trying again every few seconds…');
      return;
    }
    showViewers(status.viewers);
    if (session) {
      if (!status.video) end();
    } else if (status.video) {
      connecting = true;
      await connect().finally(() => (connecting = false));
    } else if (state !== 'ended') {
      show('waiting', waiting);
    }
  }

  const timer = setInterval(() => void poll(), POLL_MS);
  window.addEventListener('pagehide', () => {
    stopped = true;
    clearInterval(timer);
    session?.stop();
  });
  // Back from the history cache after pagehide ended everything: start over.
  window.addEventListener('pageshow', ({ persisted }) => persisted && location.reload());
  show('connecting', 'Connecting…');
  void poll();
}
