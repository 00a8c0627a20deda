/**
 * The "no server" page (/direct): two people connect their browsers with no signaling
 * server at all. One creates an invitation (the SDK's manual offer string, shown as text
 * and QR code); the other pastes or scans it and gets an answer to send back; the first
 * pastes or scans the answer, and the browsers connect. Both must be able to reach each
 * other (same network, or NATs that let a STUN-learned address through): the page says
 * so, and takes an optional STUN server.
 */
import { LocalMedia } from '@pinhole/client';
import './direct.css';
import { enterCode, showCode } from './code-box.js';
import { showDirectCall } from './direct-call.js';
import { CodeProblem, expiredProblem, hasMedia, INVITATION_TTL_MS, parseStunServer, readCode, usedProblem } from './direct-codes.js';
import { openDirectLink, type DirectLink } from './direct-link.js';
import { h, replaceChildren } from './dom.js';
import { explainMediaError } from './media-errors.js';

/** Shared with the landing page, so the name is typed once. */
const NAME_KEY = 'pinhole.name';
/** After this long without a connection the page explains what may be wrong (and keeps trying). */
const SLOW_CONNECT_MS = 20_000;

const REACHABILITY =
  'Without a server, your two devices must be able to reach each other: on the same Wi\u2011Fi or network, or behind home routers that allow it (a STUN server below helps there). ' +
  'Office networks and mobile data often do not allow it; use a normal room then.';

export function showDirect(app: HTMLElement): void {
  const nameInput = h('input', { id: 'direct-name', name: 'name', type: 'text', maxlength: '40', autocomplete: 'nickname', placeholder: 'Your name' });
  nameInput.value = localStorage.getItem(NAME_KEY) ?? '';
  const mediaBox = h('input', { id: 'direct-media', type: 'checkbox', checked: true });
  const stunInput = h('input', { id: 'direct-stun', name: 'stun', type: 'text', autocomplete: 'off', spellcheck: 'false', placeholder: 'stun:stun.example.org:3478' });
  const settingsProblem = h('p', { class: 'form-error', role: 'alert' });
  const create = h('button', { type: 'button', class: 'primary', 'data-action': 'create', onclick: () => void start('offer') }, 'Create invitation');
  const join = h('button', { type: 'button', class: 'secondary', 'data-action': 'join', onclick: () => void start('answer') }, 'I have an invitation');
  const notes = h('div', { class: 'direct-notes' });
  // Not a live region: it holds the long codes; the status lines in it are (role=status).
  const step = h('section', { class: 'direct-step', 'aria-label': 'Connecting' });

  replaceChildren(
    app,
    h(
      'div',
      { class: 'landing direct' },
      h('header', { class: 'brand' }, h('h1', {}, 'Connect directly'), h('p', {}, 'No server in the middle: swap two codes, as text or QR code, and your browsers connect to each other.'), h('a', { href: '/' }, '\u2190 Back to rooms')),
      h(
        'section',
        { class: 'join-box direct-settings', 'aria-label': 'Before you start' },
        h('div', { class: 'join-form' }, h('label', { for: 'direct-name' }, 'Your name'), nameInput),
        h('label', { class: 'check' }, mediaBox, ' Use my camera and microphone'),
        h('p', { class: 'hint' }, 'Camera and microphone must be chosen now: a direct connection cannot add them later.'),
        h(
          'details',
          {},
          h('summary', {}, 'Network options'),
          h('div', { class: 'join-form' }, h('label', { for: 'direct-stun' }, 'STUN server (optional)'), stunInput),
          h('p', { class: 'hint' }, 'A STUN server tells your browser its public address, so people behind home routers can reach each other. Leave it empty on the same network.'),
        ),
        h('p', { class: 'hint' }, REACHABILITY),
        h('div', { class: 'row choices' }, create, join),
        settingsProblem,
      ),
      notes,
      step,
    ),
  );
  document.title = 'Connect directly · Pinhole';
  nameInput.focus();

  /** Reads the settings; undefined (with the problem shown) when the STUN field is wrong. */
  function settings(): { name: string; iceServers: RTCIceServer[] } | undefined {
    settingsProblem.textContent = '';
    const name = nameInput.value.trim() || 'Guest';
    if (nameInput.value.trim()) localStorage.setItem(NAME_KEY, name);
    try {
      const stun = parseStunServer(stunInput.value);
      return { name, iceServers: stun ? [stun] : [] };
    } catch (err) {
      settingsProblem.textContent = (err as Error).message;
      stunInput.focus();
      return undefined;
    }
  }

  function lockSettings(): void {
    for (const el of [nameInput, mediaBox, stunInput, create, join]) el.disabled = true;
  }

  /** Camera and mic if wanted; a refusal is explained and the connection goes on without them. */
  async function startMedia(): Promise<LocalMedia | undefined> {
    if (!mediaBox.checked) return undefined;
    const media = new LocalMedia({ mediaDevices: navigator.mediaDevices });
    try {
      await media.start({ audio: true, video: true });
      return media;
    } catch (err) {
      const { title } = explainMediaError(err);
      notes.append(h('p', { class: 'hint warn', 'data-note': 'no-media' }, `${title} Continuing without camera and microphone: chat and files still work.`));
      return undefined;
    }
  }

  async function start(role: 'offer' | 'answer'): Promise<void> {
    const chosen = settings();
    if (!chosen) return;
    lockSettings();
    if (role === 'offer') await invite(chosen);
    else answer(chosen);
  }

  /** Offering side: make the invitation, then take the answer. */
  async function invite({ name, iceServers }: { name: string; iceServers: RTCIceServer[] }): Promise<void> {
    replaceChildren(step, h('h2', {}, '1. Send this invitation'), h('p', { class: 'hint', role: 'status' }, 'Preparing the invitation…'));
    const media = await startMedia();
    let link: DirectLink;
    try {
      link = await openDirectLink({ media, iceServers });
    } catch (err) {
      media?.stop();
      step.append(h('p', { class: 'form-error', role: 'alert' }, `The invitation could not be made: ${(err as Error).message}`), startOver());
      return;
    }
    let state: 'waiting' | 'answered' | 'expired' = 'waiting';
    const status = h('p', { class: 'hint', role: 'status' }, `Valid for ${INVITATION_TTL_MS / 60_000} minutes. ${media ? 'It includes your camera and microphone.' : 'Without camera and microphone: chat and files.'}`);
    const input = enterCode({
      label: 'answer',
      action: 'Connect',
      submit: async (text) => {
        if (state === 'expired') throw expiredProblem();
        if (state === 'answered') throw usedProblem();
        await readCode(text, 'answer');
        if (state !== 'waiting') return; // expired meanwhile: the next try explains it
        try {
          await link.signaler.remote(text);
        } catch (err) {
          if ((err as { code?: string }).code === 'unsupported') throw usedProblem();
          throw new CodeProblem('damaged', `This answer cannot be used: ${(err as Error).message}`, { cause: err });
        }
        state = 'answered';
        clearTimeout(expiry);
        status.textContent = 'Answer accepted. Connecting…';
        whenConnected(link, name, media, status);
      },
    });
    const expiry = setTimeout(() => {
      if (state !== 'waiting') return;
      state = 'expired';
      void link.close();
      media?.stop();
      status.textContent = expiredProblem().message;
      status.classList.add('warn');
      step.append(startOver('Create a new invitation'));
    }, INVITATION_TTL_MS);
    replaceChildren(
      step,
      h('h2', {}, '1. Send this invitation'),
      h('p', {}, 'Give it to the other person: they open this page (Connect directly), choose \u201cI have an invitation\u201d and paste it or scan the QR code.'),
      showCode(link.code, 'invitation'),
      status,
      h('h2', {}, '2. Paste their answer'),
      input.el,
    );
    focusCopy();
  }

  /** Answering side: take the invitation, then show the answer. */
  function answer({ name, iceServers }: { name: string; iceServers: RTCIceServer[] }): void {
    let taken = false;
    const input = enterCode({
      label: 'invitation',
      action: 'Continue',
      submit: async (text) => {
        if (taken) return;
        const offer = await readCode(text, 'invitation');
        taken = true;
        input.busy(true);
        // Media can only go into sections the invitation has: none there, none from us.
        const media = hasMedia(offer) ? await startMedia() : undefined;
        let link: DirectLink;
        try {
          link = await openDirectLink({ media, iceServers, invitation: text });
        } catch (err) {
          media?.stop();
          taken = false;
          input.busy(false);
          throw err instanceof CodeProblem ? err : new CodeProblem('damaged', `This invitation cannot be used: ${(err as Error).message}`, { cause: err });
        }
        const status = h('p', { class: 'hint', role: 'status' }, 'Waiting for them to paste your answer…');
        replaceChildren(
          step,
          h('h2', {}, '2. Send back this answer'),
          h('p', {}, 'Give it to the person who invited you: they paste it or scan the QR code, and you are connected.'),
          hasMedia(offer) ? undefined : h('p', { class: 'hint' }, 'The invitation has no camera or microphone: this will be a chat and files connection.'),
          showCode(link.code, 'answer'),
          status,
        );
        focusCopy();
        whenConnected(link, name, media, status);
      },
    });
    replaceChildren(step, h('h2', {}, '1. Open the invitation'), input.el);
    step.querySelector('textarea')?.focus();
  }

  /** The step's buttons replaced the one pressed: keyboard focus goes on to the Copy button. */
  function focusCopy(): void {
    step.querySelector<HTMLButtonElement>('.code-box button')?.focus();
  }

  /** Shows the call once connected; explains a slow or failed connection meanwhile. */
  function whenConnected(link: DirectLink, name: string, media: LocalMedia | undefined, status: HTMLElement): void {
    let done = false;
    let failed = false;
    const slow = setTimeout(() => {
      if (done) return;
      status.textContent =
        link.signaler.role === 'offer'
          ? `Still connecting. ${REACHABILITY}`
          : `Still not connected. Has the other person pasted your answer? If their invitation expired, or someone else answered it first, ask for a new one. ${REACHABILITY}`;
      status.classList.add('warn');
    }, SLOW_CONNECT_MS);
    const off = link.peer.on('state', (state) => {
      if (state === 'failed' && !done && !failed) {
        failed = true;
        const which = link.signaler.role === 'offer' ? ' Was the answer made for this invitation?' : '';
        status.textContent = `The connection could not be made.${which} ${REACHABILITY}`;
        status.classList.add('warn');
        status.after(startOver());
      }
      if (state !== 'connected' || done) return;
      done = true;
      clearTimeout(slow);
      off();
      showDirectCall(app, { name, link, media, onEnded: () => ended(app) });
    });
  }
}

function startOver(label = 'Start over'): HTMLElement {
  return h('a', { class: 'button secondary', href: '/direct', 'data-action': 'start-over' }, label);
}

function ended(app: HTMLElement): void {
  replaceChildren(
    app,
    h('div', { class: 'left' }, h('h1', {}, 'The call ended.'), h('div', { class: 'row' }, startOver('Connect again'), h('a', { class: 'button secondary', href: '/' }, 'Start page'))),
  );
}
