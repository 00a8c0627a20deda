/**
 * The call: one session with the hub, one room, our camera/mic, and per remote peer a
 * tile, a chat link, a badge and file transfers. Everything a participant shows others
 * about themselves (mic, camera, screen) travels as a small `state` message through the
 * hub (exactly once, even across reconnects); names come from the room meta.
 */
import { connect, type Json, type LocalMedia, type NamedChannel, type RemotePeer, type Room, type Session } from '@pinhole/client';
import { describeConnection, describeSfu } from './badge.js';
import { watchTileLayer } from './layers.js';
import { Chat, type ChatWire } from './chat.js';
import { chatPanel } from './chat-view.js';
import { devicePickers } from './devices.js';
import { h, replaceChildren } from './dom.js';
import { filesPanel } from './files-view.js';
import { banners, tabs, toggle } from './layout.js';
import { explainMediaError } from './media-errors.js';
import { offerPrompts } from './offers.js';
import { peopleList, type Participant } from './people.js';
import { joinLink, watchLink } from './rooms.js';
import { sharePanel } from './share.js';
import { SpeakingMeter } from './speaking.js';
import { connectOptionsOf, type Switches } from './switches.js';
import { Grid, Tile, type TileState } from './tiles.js';
import { viewersOf } from './viewers.js';

export interface CallOptions {
  name: string;
  room: string;
  media: LocalMedia | undefined;
  switches: Switches;
  /** Called after Leave, with the way back. */
  onLeft: () => void;
}

const BADGE_EVERY_MS = 2000;
const STATE_MESSAGE = 'pinhole-web/state';

interface StateMessage {
  t: typeof STATE_MESSAGE;
  mic: boolean;
  camera: boolean;
  screen: boolean;
}

/** Sends on a named channel; a full or closed channel drops it (the chat resends unacknowledged messages). */
function trySend(channel: NamedChannel, data: ChatWire): void {
  try {
    channel.send(data as unknown as Json);
  } catch {
    // queue-full or closed: the message stays pending in Chat and goes again on the next open
  }
}

function isStateMessage(data: unknown): data is StateMessage {
  const d = data as Partial<StateMessage> | null;
  return typeof d === 'object' && d !== null && d.t === STATE_MESSAGE && typeof d.mic === 'boolean' && typeof d.camera === 'boolean' && typeof d.screen === 'boolean';
}

export async function startCall(app: HTMLElement, options: CallOptions): Promise<void> {
  const { media, room: roomName, switches } = options;
  const clientId = crypto.randomUUID();
  const chat = new Chat(clientId, options.name);
  const meter = new SpeakingMeter();
  const grid = new Grid();
  const bar = banners();
  const participants = new Map<string, Participant>();
  const me: TileState = { name: options.name, mic: media?.micEnabled ?? false, camera: media?.cameraEnabled ?? false, screen: false };

  const files = filesPanel(
    (id) => participants.get(id),
    () => [...participants.values()],
  );
  const offers = offerPrompts({ accept: (from, t) => files.receive(from, t), decline: (from, t) => files.decline(from, t) });
  const people = peopleList();
  const chatView = chatPanel(chat);
  let unwatchLocal = (): void => {};
  const watchLocal = (stream: MediaStream): void => {
    unwatchLocal();
    unwatchLocal = meter.watch(stream, (speaking) => local.setSpeaking(speaking && me.mic));
  };
  const pickers = devicePickers({
    ids: { camera: 'call-camera', mic: 'call-mic' },
    media: () => media,
    onSwitched(kind) {
      bar.hide('device');
      if (!media) return;
      if (kind === 'audioinput') watchLocal(media.stream);
      // Our tile shows the screen while sharing; the new camera shows once sharing stops.
      else if (!me.screen) local.setStream(media.stream);
    },
    onError(err) {
      const { title, advice } = explainMediaError(err);
      bar.show('device', 'warn', `${title} ${advice}`, h('button', { type: 'button', onclick: () => bar.hide('device') }, 'Dismiss'));
    },
  });
  const devicesPanel = h(
    'section',
    { class: 'devices-panel', 'aria-label': 'Devices' },
    h('div', { class: 'devices' }, h('label', {}, 'Camera', pickers.camera), h('label', {}, 'Microphone', pickers.mic)),
    h('p', { class: 'hint' }, media ? 'The others see and hear the new device at once; the choice is kept for your next call.' : 'You joined without camera and microphone.'),
  );
  const side = tabs([
    { id: 'people', label: 'People', panel: people.el },
    { id: 'chat', label: 'Chat', panel: chatView.el },
    { id: 'files', label: 'Files', panel: files.el },
    { id: 'devices', label: 'Devices', panel: devicesPanel },
    { id: 'invite', label: 'Invite', panel: sharePanel(joinLink(location.origin, roomName), watchLink(location.origin, roomName)) },
  ]);
  chatView.onUnread(() => side.notify('chat'));
  const transportLabel = h('span', { class: 'transport', title: 'Signaling transport to the Pinhole server' }, 'connecting…');
  const peopleCount = h('span', { class: 'count' }, '1 here');
  /** How many watch the call from its watch page (they are not participants); hidden while none. */
  const watching = h('span', { class: 'watching', title: 'People watching the call without joining it', hidden: true });

  const mic = toggle('mic', { on: 'Mute', off: 'Unmute' }, () => setMic(!me.mic));
  const camera = toggle('camera', { on: 'Stop video', off: 'Start video' }, () => setCamera(!me.camera));
  const screen = toggle('screen', { on: 'Stop sharing', off: 'Share screen' }, () => void setScreen(!me.screen));
  let speakerLayout = false;
  const layout = toggle('layout', { on: 'Grid view', off: 'Speaker view' }, () => {
    speakerLayout = !speakerLayout;
    layout.set(speakerLayout);
    grid.setLayout(speakerLayout ? 'speaker' : 'grid');
  });
  layout.set(false);
  const leave = h('button', { type: 'button', class: 'control danger', 'data-action': 'leave', onclick: () => void leaveCall() }, 'Leave');
  mic.set(me.mic);
  camera.set(me.camera);
  screen.set(false);
  if (!media) for (const c of [mic, camera, screen]) c.el.disabled = true;

  replaceChildren(
    app,
    h(
      'div',
      { class: 'call' },
      h('header', { class: 'call-header' }, h('h1', {}, roomName), peopleCount, watching, transportLabel, switches.relay ? h('span', { class: 'pill' }, 'relay only') : undefined),
      h('div', { class: 'notices' }, bar.el, offers.el),
      grid.el,
      side.el,
      h('nav', { class: 'controls', 'aria-label': 'Call controls' }, mic.el, camera.el, screen.el, layout.el, leave),
    ),
  );
  document.title = `${roomName} · Pinhole`;

  const local = grid.add(new Tile('local', true));
  local.setState(me);
  if (media) {
    local.setStream(media.stream);
    watchLocal(media.stream);
    void pickers.refresh();
  } else {
    bar.show('no-media', 'warn', 'You joined without camera and microphone: the others cannot see or hear you, but you can see, hear and chat with them.');
  }

  bar.show('connecting', 'info', 'Connecting to the Pinhole server…');
  let session: Session;
  let room: Room;
  try {
    session = await connect(location.origin, connectOptionsOf(switches));
    room = await session.join(roomName, { name: options.name, client: clientId }, { ...(media ? { media } : {}), ...(switches.topology ? { topology: switches.topology } : {}) });
  } catch (err) {
    bar.show('connecting', 'error', `Could not join: ${(err as Error).message}.`, h('button', { type: 'button', onclick: () => location.reload() }, 'Try again'));
    return;
  }
  bar.hide('connecting');
  const showTransport = (): void => {
    transportLabel.textContent = `signaling: ${session.transport}`;
    transportLabel.dataset['transport'] = session.transport;
  };
  showTransport();

  session.on('reconnecting', ({ attempt }) => {
    bar.show('reconnecting', 'warn', `Connection to the server lost; reconnecting (attempt ${attempt})… Calls already connected keep going.`);
    transportLabel.textContent = 'signaling: reconnecting';
    transportLabel.dataset['transport'] = 'reconnecting';
  });
  session.on('reconnected', () => {
    bar.hide('reconnecting');
    showTransport();
  });
  session.on('transport-changed', showTransport);
  session.on('disconnected', ({ error }) => {
    bar.show('reconnecting', 'error', `Disconnected from the server${error ? `: ${error.message}` : ''}.`, h('button', { type: 'button', onclick: () => location.reload() }, 'Rejoin'));
  });
  room.on('rejoined', () => {
    bar.hide('reconnecting');
    showTransport();
  });

  const myState = (): StateMessage => ({ t: STATE_MESSAGE, mic: me.mic, camera: me.camera, screen: me.screen });
  const announce = (): void => room.broadcast({ ...myState() });

  function refreshLists(): void {
    const list = [...participants.values()];
    people.render(me, list);
    files.setPeers(list.map((p) => ({ id: p.peer.id, name: p.name })));
    peopleCount.textContent = `${list.length + 1} here`;
  }

  function add(peer: RemotePeer): void {
    const name = typeof peer.meta['name'] === 'string' && peer.meta['name'].trim() ? peer.meta['name'].slice(0, 40) : 'Guest';
    const client = typeof peer.meta['client'] === 'string' ? peer.meta['client'] : peer.id;
    const tile = grid.add(new Tile(peer.id, false));
    const p: Participant = { peer, name, client, state: { name, mic: true, camera: true, screen: false }, tile, badge: undefined, offs: [] };
    tile.setState(p.state);
    participants.set(peer.id, p);
    files.dropZone(tile.el, () => peer.id);
    chat.know(client);
    p.offs.push(linkChat(peer, client));
    p.offs.push(
      peer.on('state', (state) => {
        // The SDK repairs it (ICE restart, then a new connection) until it is connected again.
        if (state === 'disconnected' || state === 'failed') bar.show(`media-${peer.id}`, 'warn', `Connection to ${name} lost — retrying…`);
        if (state === 'connected') bar.hide(`media-${peer.id}`);
        refreshBadge(p);
      }),
    );
    // Through the SFU, the tile's size picks the simulcast layer (a thumbnail gets the low one).
    p.offs.push(watchTileLayer(tile.video, (rid) => room.setLayer(peer, rid)));
    room.send(peer, { ...myState() });
    refreshLists();
  }


  function remove(peer: RemotePeer, reason: string): void {
    const p = participants.get(peer.id);
    if (!p) return;
    for (const off of p.offs) off();
    p.unwatchAudio?.();
    participants.delete(peer.id);
    grid.remove(peer.id);
    bar.hide(`media-${peer.id}`);
    // A peer that left on purpose gets no more chat; one that dropped keeps its queue for its return.
    if (reason === 'leave' && ![...participants.values()].some((o) => o.client === p.client)) chat.forget(p.client);
    refreshLists();
  }

  /** The chat channel: the peer with the smaller id opens it, the other takes it when it arrives. */
  function linkChat(peer: RemotePeer, client: string): () => void {
    const offs: (() => void)[] = [];
    const use = (channel: NamedChannel): void => {
      offs.push(chat.attach(client, { send: (wire) => trySend(channel, wire) }));
      offs.push(channel.on('message', ({ data }) => chat.receive(client, data)));
      offs.push(channel.on('open', ({ reopened }) => reopened && chat.resend(client)));
    };
    if (room.localId < peer.id) use(peer.channel('chat'));
    else {
      const existing = peer.channels?.get('chat');
      if (existing) use(existing);
      else offs.push(peer.on('channel', (channel) => channel.name === 'chat' && use(channel)));
    }
    return () => offs.forEach((off) => off());
  }

  for (const peer of room.peers.values()) add(peer);
  room.on('peer-joined', add);
  room.on('peer-left', ({ peer, reason }) => remove(peer, reason));
  room.on('track', ({ peer, track, streams }) => {
    const p = participants.get(peer.id);
    const stream = streams[0] ?? new MediaStream([track]);
    if (!p) return;
    // The latest track wins: after a move between mesh and SFU the new path's stream plays.
    p.via = room.sfuConnection?.getReceivers().some((r) => r.track === track) ? 'sfu' : 'mesh';
    p.tile.setStream(stream);
    if (track.kind === 'audio') {
      p.unwatchAudio?.();
      p.unwatchAudio = meter.watch(new MediaStream([track]), (speaking) => {
        p.tile.setSpeaking(speaking && p.state.mic);
        if (speaking && p.state.mic) grid.feature(p.peer.id);
      });
    }
    refreshBadge(p);
  });
  // Streams that are not members (WHIP publishers through the gateway): a tile each, no chat or files.
  const streamTiles = new Map<string, { tile: Tile; off: () => void }>();
  room.on('stream-track', ({ stream }) => {
    let entry = streamTiles.get(stream.id);
    if (!entry) {
      const tile = grid.add(new Tile(`stream-${stream.id}`, false));
      tile.setState({ name: stream.name, mic: true, camera: true, screen: false });
      tile.setBadge({ kind: 'sfu', text: 'WHIP stream', title: `${stream.name} publishes over WHIP, through the SFU` });
      entry = { tile, off: watchTileLayer(tile.video, (rid) => room.setLayer(stream.id, rid)) };
      streamTiles.set(stream.id, entry);
    }
    entry.tile.setStream(stream.stream);
  });
  // Through the SFU, the room's active speaker (from everyone's audio levels) is marked and shown large in the speaker view.
  room.on('active-speaker', ({ id, peer }) => {
    const tileId = peer ? peer.id : id === undefined ? undefined : `stream-${id}`;
    grid.markSpeaker(tileId);
  });
  room.on('stream-ended', ({ id }) => {
    const entry = streamTiles.get(id);
    if (!entry) return;
    entry.off();
    grid.remove(`stream-${id}`);
    streamTiles.delete(id);
  });
  const onState = ({ from, data }: { from: RemotePeer | string; data: unknown }): void => {
    const p = typeof from === 'string' ? undefined : participants.get(from.id);
    if (!p || !isStateMessage(data)) return;
    p.state = { name: p.name, mic: data.mic, camera: data.camera, screen: data.screen };
    p.tile.setState(p.state);
    refreshLists();
  };
  room.on('message', onState);
  room.on('broadcast', onState);
  // The SFU tells the room how many watch (docs/protocol/sfu.md, pinhole:sfu-viewers).
  const showWatching = (n: number): void => {
    watching.textContent = `${n} watching`;
    watching.dataset['count'] = String(n);
    watching.hidden = n === 0;
  };
  const onViewers = ({ from, data }: { from: RemotePeer | string; data: unknown }): void => {
    const n = typeof from === 'string' && room.services.has(from) ? viewersOf(data) : undefined;
    if (n !== undefined) showWatching(n);
  };
  room.on('message', onViewers);
  room.on('broadcast', onViewers);
  room.on('service-left', () => showWatching(0));
  room.on('file', ({ peer, transfer }) => {
    offers.add(participants.get(peer.id)?.name ?? 'someone', transfer);
    side.notify('files');
  });

  function refreshBadge(p: Participant): void {
    if (p.via === 'sfu') {
      room.sfuReport(p.peer).then(
        (report) => {
          if (!report) return;
          p.badge = describeSfu(report);
          p.tile.setBadge(p.badge);
        },
        () => undefined,
      );
      return;
    }
    p.peer.report().then(
      (report) => {
        p.badge = describeConnection(report);
        p.tile.setBadge(p.badge);
      },
      () => undefined, // closed between the tick and the read
    );
  }

  const badgeTimer = setInterval(() => {
    for (const p of participants.values()) refreshBadge(p);
    refreshLists();
  }, BADGE_EVERY_MS);

  function setMic(on: boolean): void {
    if (!media) return;
    media.setMicEnabled(on);
    me.mic = on;
    mic.set(on);
    local.setState(me);
    announce();
  }

  function setCamera(on: boolean): void {
    if (!media) return;
    media.setCameraEnabled(on);
    me.camera = on;
    camera.set(on);
    local.setState(me);
    announce();
  }

  async function setScreen(on: boolean): Promise<void> {
    if (!media) return;
    screen.el.disabled = true;
    try {
      if (on) await media.startScreenShare();
      else await media.stopScreenShare();
      bar.hide('screen');
    } catch (err) {
      const { title, advice } = explainMediaError(err, 'screen');
      bar.show('screen', 'warn', `${title} ${advice}`, h('button', { type: 'button', onclick: () => bar.hide('screen') }, 'Dismiss'));
    } finally {
      screen.el.disabled = false;
    }
  }

  media?.on('screen', ({ active, track }) => {
    me.screen = active;
    screen.set(active);
    // Our tile shows what the others get: the screen while sharing.
    local.setStream(active && track ? new MediaStream([track]) : media.stream);
    local.setState(me);
    announce();
  });

  async function leaveCall(): Promise<void> {
    clearInterval(badgeTimer);
    pickers.close();
    meter.close();
    media?.stop();
    await session.close().catch(() => undefined);
    options.onLeft();
  }
  window.addEventListener('pagehide', () => void session.close().catch(() => undefined), { once: true });
  refreshLists();
}
