/**
 * The video grid: one tile per participant (ours first) with the video, the name, a
 * microphone-off mark, a speaking outline and, for remote peers, the connection badge.
 * The grid's column count follows the number of tiles (CSS reads --tiles).
 */
import { h } from './dom.js';
import type { Badge } from './badge.js';

export interface TileState {
  name: string;
  mic: boolean;
  camera: boolean;
  screen: boolean;
}

export class Tile {
  readonly el: HTMLElement;
  readonly video: HTMLVideoElement;
  readonly #label: HTMLElement;
  readonly #micMark: HTMLElement;
  readonly #badge: HTMLElement | undefined;
  readonly #placeholder: HTMLElement;

  constructor(readonly id: string, readonly local: boolean) {
    this.video = h('video', { autoplay: true, playsinline: true, class: local ? 'mirror' : undefined });
    // Our own sound must not play back to us; remote audio plays through this element.
    this.video.muted = local;
    this.#label = h('span', { class: 'name' });
    this.#micMark = h('span', { class: 'mic-off', role: 'img', 'aria-label': 'microphone off', hidden: true }, '🔇');
    this.#placeholder = h('div', { class: 'placeholder', 'aria-hidden': 'true' });
    this.#badge = local ? undefined : h('span', { class: 'badge', 'data-kind': 'connecting' }, 'connecting');
    this.el = h(
      'figure',
      { class: 'tile', 'data-peer': id, 'data-local': local ? 'true' : undefined, tabindex: '0' },
      this.video,
      this.#placeholder,
      h('figcaption', {}, this.#micMark, this.#label, this.#badge),
    );
  }

  setStream(stream: MediaStream): void {
    if (this.video.srcObject !== stream) this.video.srcObject = stream;
    void this.video.play().catch(() => undefined); // autoplay may wait for a gesture; the join click is one
  }

  setState(state: TileState): void {
    const name = this.local ? `${state.name} (you)` : state.name;
    this.#label.textContent = name;
    this.el.dataset['name'] = state.name;
    this.el.dataset['mic'] = state.mic ? 'on' : 'off';
    this.el.dataset['camera'] = state.camera || state.screen ? 'on' : 'off';
    this.el.dataset['screen'] = state.screen ? 'on' : 'off';
    this.video.classList.toggle('mirror', this.local && !state.screen);
    this.#micMark.hidden = state.mic;
    this.#placeholder.textContent = initials(state.name);
    this.el.setAttribute('aria-label', `${name}${state.mic ? '' : ', microphone off'}${state.camera || state.screen ? '' : ', camera off'}${state.screen ? ', sharing screen' : ''}`);
  }

  setSpeaking(speaking: boolean): void {
    this.el.classList.toggle('speaking', speaking);
  }

  setBadge(badge: Badge): void {
    if (!this.#badge) return;
    this.#badge.textContent = badge.text;
    this.#badge.title = badge.title;
    this.#badge.dataset['kind'] = badge.kind;
  }
}

export class Grid {
  readonly el = h('section', { class: 'grid', 'aria-label': 'Participants\u2019 video' });
  readonly #tiles = new Map<string, Tile>();

  add(tile: Tile): Tile {
    this.#tiles.set(tile.id, tile);
    this.el.append(tile.el);
    this.#layout();
    return tile;
  }

  get(id: string): Tile | undefined {
    return this.#tiles.get(id);
  }

  remove(id: string): void {
    this.#tiles.get(id)?.el.remove();
    this.#tiles.delete(id);
    this.#layout();
  }

  #layout(): void {
    const n = this.#tiles.size;
    this.el.style.setProperty('--cols', String(Math.ceil(Math.sqrt(n))));
    this.el.style.setProperty('--tiles', String(n));
  }
}

function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  return parts.slice(0, 2).map((p) => [...p][0]!.toUpperCase()).join('') || '?';
}
