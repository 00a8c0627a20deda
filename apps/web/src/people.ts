/** The participant list (People tab): names, mic/camera/screen state and connection. */
import type { RemotePeer } from '@pinhole/client';
import type { Badge } from './badge.js';
import { h, replaceChildren } from './dom.js';
import type { Tile, TileState } from './tiles.js';

export interface Participant {
  peer: RemotePeer;
  name: string;
  /** The peer's client id (room meta): stable across new peer ids after a hub restart. */
  client: string;
  state: TileState;
  tile: Tile;
  badge: Badge | undefined;
  /** Unsubscribes everything tied to this peer. */
  offs: (() => void)[];
  /** How its media reaches us now: peer-to-peer, or through the SFU (the room's topology). */
  via?: 'mesh' | 'sfu';
  /** Stops the speaking meter of its current audio track. */
  unwatchAudio?: () => void;
}

export function peopleList(): { el: HTMLElement; render(me: TileState, others: Participant[]): void } {
  const list = h('ul', { class: 'people', 'aria-label': 'Participants' });
  const el = h('section', { class: 'people-panel', 'aria-label': 'People' }, list);
  const row = (state: TileState, you: boolean, badge?: Badge): HTMLElement =>
    h(
      'li',
      { 'data-name': state.name, 'data-mic': state.mic ? 'on' : 'off' },
      h('span', { class: 'name' }, you ? `${state.name} (you)` : state.name),
      h('span', { class: 'flags' }, [state.mic ? '' : 'muted', state.camera || state.screen ? '' : 'camera off', state.screen ? 'sharing screen' : ''].filter(Boolean).join(' · ')),
      badge ? h('span', { class: 'badge', 'data-kind': badge.kind, title: badge.title }, badge.text) : undefined,
    );
  return {
    el,
    render(me, others) {
      replaceChildren(list, row(me, true), ...others.map((p) => row(p.state, false, p.badge)));
    },
  };
}
