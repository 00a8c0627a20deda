/**
 * The call on the "no server" page once connected: the two videos, chat and files over
 * data channels (an incoming file waits for Accept), mute and camera, and the connection badge. With no server, what a call
 * page sends through the hub (names, mute state) goes over the chat's data channel here
 * as a small `peer` message, and a connection that fails cannot be rebuilt: the page says
 * so and offers to start over.
 */
import type { Json, LocalMedia, NamedChannel } from '@pinhole/client';
import { describeConnection } from './badge.js';
import { Chat, type ChatWire } from './chat.js';
import { chatPanel } from './chat-view.js';
import type { DirectLink } from './direct-link.js';
import { h, replaceChildren } from './dom.js';
import { filesPanel } from './files-view.js';
import { banners, tabs, toggle } from './layout.js';
import { offerPrompts } from './offers.js';
import { Grid, Tile, type TileState } from './tiles.js';

export interface DirectCallOptions {
  name: string;
  link: DirectLink;
  media: LocalMedia | undefined;
  /** After Leave, or Start over after a failure. */
  onEnded(): void;
}

const PEER_MESSAGE = 'pinhole-web/peer';
const BADGE_EVERY_MS = 2000;

/** Who the other side is and what it sends; `left` when it hung up. */
interface PeerMessage {
  t: typeof PEER_MESSAGE;
  name: string;
  mic: boolean;
  camera: boolean;
  left?: boolean;
}

function isPeerMessage(data: unknown): data is PeerMessage {
  const d = data as Partial<PeerMessage> | null;
  return typeof d === 'object' && d !== null && d.t === PEER_MESSAGE && typeof d.name === 'string' && typeof d.mic === 'boolean' && typeof d.camera === 'boolean';
}

export function showDirectCall(app: HTMLElement, options: DirectCallOptions): void {
  const { link, media } = options;
  const { peer, room } = link;
  const chat = new Chat(room.localId, options.name);
  const bar = banners();
  const grid = new Grid();
  const me: TileState = { name: options.name, mic: media?.micEnabled ?? false, camera: media?.cameraEnabled ?? false, screen: false };
  const them: TileState = { name: 'The other person', mic: false, camera: false, screen: false };
  let channel: NamedChannel | undefined;
  let ended = false;

  const files = filesPanel(
    (id) => (id === peer.id ? { peer, name: them.name } : undefined),
    () => [{ peer, name: them.name }],
  );
  // Incoming files wait for Accept, as on the call page.
  const offers = offerPrompts({ accept: (from, t) => files.receive(from, t), decline: (from, t) => files.decline(from, t) });
  const chatView = chatPanel(chat);
  const side = tabs([
    { id: 'chat', label: 'Chat', panel: chatView.el },
    { id: 'files', label: 'Files', panel: files.el },
  ]);
  chatView.onUnread(() => side.notify('chat'));

  const local = grid.add(new Tile('local', true));
  const remote = grid.add(new Tile(peer.id, false));
  local.setState(me);
  remote.setState(them);
  if (media) local.setStream(media.stream);
  files.dropZone(remote.el, () => peer.id);
  files.setPeers([{ id: peer.id, name: them.name }]);

  // Tracks arrived with the offer or answer, before this view existed.
  const received = peer.connection!.pc.getTransceivers().filter((t) => t.currentDirection === 'sendrecv' || t.currentDirection === 'recvonly');
  if (received.length > 0) remote.setStream(new MediaStream(received.map((t) => t.receiver.track)));

  const hello = (left = false): void => {
    const message: PeerMessage = { t: PEER_MESSAGE, name: me.name, mic: me.mic, camera: me.camera, ...(left ? { left } : {}) };
    if (channel) trySend(channel, message);
  };

  const mic = toggle('mic', { on: 'Mute', off: 'Unmute' }, () => {
    media?.setMicEnabled(!me.mic);
    me.mic = !me.mic;
    mic.set(me.mic);
    local.setState(me);
    hello();
  });
  const camera = toggle('camera', { on: 'Stop video', off: 'Start video' }, () => {
    media?.setCameraEnabled(!me.camera);
    me.camera = !me.camera;
    camera.set(me.camera);
    local.setState(me);
    hello();
  });
  mic.set(me.mic);
  camera.set(me.camera);
  if (!media) for (const c of [mic, camera]) c.el.disabled = true;
  const leave = h('button', { type: 'button', class: 'control danger', 'data-action': 'leave', onclick: () => void end(true) }, 'Leave');

  replaceChildren(
    app,
    h(
      'div',
      { class: 'call direct-call' },
      h('header', { class: 'call-header' }, h('h1', {}, 'Direct call'), h('span', { class: 'transport', title: 'No server: the two browsers connected with pasted or scanned codes' }, 'no server')),
      h('div', { class: 'direct-banners' }, bar.el, offers.el),
      grid.el,
      side.el,
      h('nav', { class: 'controls', 'aria-label': 'Call controls' }, mic.el, camera.el, leave),
    ),
  );
  document.title = 'Direct call · Pinhole';
  if (!media) bar.show('no-media', 'info', 'No camera or microphone in this call (one of you did not share them when connecting): chat and files work.');

  // The chat channel: the side with the smaller id opens it, the other takes it (as on the call page).
  const use = (ch: NamedChannel): void => {
    channel = ch;
    chat.attach(peer.id, { send: (wire) => trySend(ch, wire) });
    ch.on('message', ({ data }) => {
      if (isPeerMessage(data)) return onPeerMessage(data);
      chat.receive(peer.id, data);
    });
    ch.on('open', ({ reopened }) => {
      hello();
      if (reopened) chat.resend(peer.id);
    });
    if (ch.state === 'open') hello();
  };
  if (room.localId < peer.id) use(peer.channel('chat'));
  else {
    const existing = peer.channels?.get('chat');
    if (existing) use(existing);
    else peer.on('channel', (ch) => ch.name === 'chat' && use(ch));
  }

  function onPeerMessage(message: PeerMessage): void {
    them.name = message.name.trim().slice(0, 40) || 'Guest';
    them.mic = message.mic;
    them.camera = message.camera;
    remote.setState(them);
    files.setPeers([{ id: peer.id, name: them.name }]);
    document.title = `${them.name} · Direct call · Pinhole`;
    if (message.left) {
      bar.show('state', 'info', `${them.name} left the call.`, h('button', { type: 'button', onclick: () => void end(false) }, 'Start over'));
      void link.close();
    }
  }

  room.on('track', ({ track, streams }) => remote.setStream(streams[0] ?? new MediaStream([track])));
  room.on('file', ({ transfer }) => {
    offers.add(them.name, transfer);
    side.notify('files');
  });
  peer.on('state', (state) => {
    if (ended) return;
    if (state === 'connected') bar.hide('state');
    if (state === 'disconnected') bar.show('state', 'warn', `The connection to ${them.name} is interrupted; waiting for it to come back…`);
    if (state === 'failed') {
      bar.show(
        'state',
        'error',
        `The connection to ${them.name} was lost. Without a server it cannot be rebuilt automatically: start over with a new invitation.`,
        h('button', { type: 'button', onclick: () => void end(false) }, 'Start over'),
      );
    }
  });

  const refreshBadge = (): void => {
    peer.report().then(
      (report) => remote.setBadge(describeConnection(report)),
      () => undefined, // closed between the tick and the read
    );
  };
  refreshBadge();
  const badgeTimer = setInterval(refreshBadge, BADGE_EVERY_MS);

  async function end(saidGoodbye: boolean): Promise<void> {
    if (ended) return;
    ended = true;
    if (saidGoodbye) {
      hello(true);
      // A moment for the goodbye to leave before the connection closes.
      await new Promise((r) => setTimeout(r, 200));
    }
    clearInterval(badgeTimer);
    media?.stop();
    await link.close().catch(() => undefined);
    options.onEnded();
  }
  window.addEventListener('pagehide', () => void link.close().catch(() => undefined), { once: true });
}

/** A full or closed channel drops the message (chat resends unacknowledged ones on reopen). */
function trySend(channel: NamedChannel, data: ChatWire | PeerMessage): void {
  try {
    channel.send(data as unknown as Json);
  } catch {
    // queue-full or closed
  }
}
