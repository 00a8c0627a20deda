/**
 * The landing page: display name, room (a random readable one, or the one from the link),
 * a camera/microphone preview with device pickers, and media errors in plain words.
 * Resolves with what the call needs once the person clicks Join.
 */
import { LocalMedia } from '@pinhole/client';
import { devicePickers, startRemembered } from './devices.js';
import { h, replaceChildren } from './dom.js';
import { explainMediaError } from './media-errors.js';
import { cleanRoomName, randomRoomName } from './rooms.js';
import { SpeakingMeter } from './speaking.js';
import type { Switches } from './switches.js';

export interface JoinRequest {
  name: string;
  room: string;
  /** Started camera/mic, or undefined when joining without them. */
  media: LocalMedia | undefined;
}

const NAME_KEY = 'pinhole.name';

export function showLanding(app: HTMLElement, options: { room?: string; switches: Switches }): Promise<JoinRequest> {
  return new Promise((resolve) => {
    const meter = new SpeakingMeter();
    let media: LocalMedia | undefined;
    let unwatch = (): void => {};

    const nameInput = h('input', { id: 'name', name: 'name', type: 'text', required: true, maxlength: '40', autocomplete: 'nickname', placeholder: 'Your name' });
    nameInput.value = localStorage.getItem(NAME_KEY) ?? '';
    const roomInput = h('input', { id: 'room', name: 'room', type: 'text', required: true, maxlength: '128', autocomplete: 'off', spellcheck: 'false' });
    roomInput.value = options.room ?? randomRoomName();
    const newRoom = h('button', { type: 'button', class: 'secondary', title: 'Pick another random room name', onclick: () => ((roomInput.value = randomRoomName()), roomInput.focus()) }, 'New name');
    const join = h('button', { type: 'submit', class: 'primary' }, options.room ? `Join ${options.room}` : 'Join');
    const formError = h('p', { class: 'form-error', role: 'alert' });

    const video = h('video', { autoplay: true, playsinline: true, class: 'mirror' });
    video.muted = true;
    const level = h('meter', { min: '0', max: '1', value: '0', 'aria-label': 'Microphone level' });
    const watchLevel = (stream: MediaStream): void => {
      unwatch();
      unwatch = meter.watch(stream, (_speaking, value) => (level.value = Math.min(1, value * 8)));
    };
    const pickers = devicePickers({
      ids: { camera: 'camera', mic: 'mic' },
      media: () => media,
      onSwitched: (kind) => kind === 'audioinput' && media && watchLevel(media.stream),
      onError: (err) => showProblem(err),
    });
    const problem = h('div', { class: 'media-problem', role: 'alert', hidden: true });
    const preview = h('div', { class: 'preview' }, video, h('div', { class: 'preview-off', hidden: true }, 'Camera off'));

    const form = h(
      'form',
      { class: 'join-form' },
      h('label', { for: 'name' }, 'Your name'),
      nameInput,
      h('label', { for: 'room' }, 'Room'),
      h('div', { class: 'row' }, roomInput, newRoom),
      h('p', { class: 'hint' }, 'Make up a new room, or type the name (or paste the link) someone sent you.'),
      join,
      formError,
    );

    const notes = options.switches.problems.map((p) => h('p', { class: 'hint warn' }, p));
    if (options.switches.transport) notes.push(h('p', { class: 'hint' }, `Diagnostics: signaling forced to ${options.switches.transport}.`));
    if (options.switches.relay) notes.push(h('p', { class: 'hint' }, 'Diagnostics: media forced through TURN (relay).'));

    replaceChildren(
      app,
      h(
        'div',
        { class: 'landing' },
        h('header', { class: 'brand' }, h('h1', {}, 'Pinhole'), h('p', {}, 'Video calls that get through: firewalls, proxies and flaky networks included.')),
        h(
          'div',
          { class: 'landing-body' },
          h(
            'section',
            { class: 'preview-box', 'aria-label': 'Camera and microphone preview' },
            preview,
            h('div', { class: 'devices' }, h('label', {}, 'Camera', pickers.camera), h('label', {}, 'Microphone', pickers.mic), h('label', { class: 'level' }, 'Level', level)),
            problem,
          ),
          h('section', { class: 'join-box', 'aria-label': 'Join a room' }, form, ...notes, h('p', { class: 'hint direct-link' }, h('a', { href: '/direct' }, 'No server? Connect directly'))),
        ),
      ),
    );
    (nameInput.value ? roomInput : nameInput).focus();

    const showProblem = (err: unknown): void => {
      const { title, advice } = explainMediaError(err);
      replaceChildren(
        problem,
        h('strong', {}, title),
        h('p', {}, advice),
        h('button', { type: 'button', class: 'secondary', onclick: () => void startPreview() }, 'Try again'),
      );
      problem.hidden = false;
    };

    async function startPreview(): Promise<void> {
      problem.hidden = true;
      media?.stop();
      unwatch();
      const local = new LocalMedia({ mediaDevices: navigator.mediaDevices });
      try {
        await startRemembered(local);
      } catch (err) {
        media = undefined;
        showProblem(err);
        join.textContent = `${join.textContent?.replace(/ without camera or mic$/, '')} without camera or mic`;
        return;
      }
      media = local;
      join.textContent = options.room ? `Join ${options.room}` : 'Join';
      video.srcObject = local.stream;
      watchLevel(local.stream);
      await pickers.refresh();
    }

    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const name = nameInput.value.trim();
      const room = cleanRoomName(roomInput.value);
      if (!name) return void ((formError.textContent = 'Please enter your name, so the others know who you are.'), nameInput.focus());
      if (!room) return void ((formError.textContent = 'Room names use letters, digits and - _ . ~ only.'), roomInput.focus());
      localStorage.setItem(NAME_KEY, name);
      unwatch();
      meter.close();
      pickers.close();
      resolve({ name, room, media });
    });

    void startPreview();
  });
}
