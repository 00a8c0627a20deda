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
    this.#micMark = h('span', { class: 'mic-off', role: 'img', 'aria-label': 'microphone off', title: 'microphone off', hidden: true });
    this.#micMark.append(micOffIcon());
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
  readonly el = h('section', { class: 'grid', 'aria-label': 'Participants\u2019 video', 'data-layout': 'grid' });
  readonly #tiles = new Map<string, Tile>();
  #featured: string | undefined;

  /** `speaker`: the featured tile (the active speaker) large, the others as thumbnails. */
  setLayout(layout: 'grid' | 'speaker'): void {
    this.el.dataset['layout'] = layout;
  }

  /** The SFU's active speaker: marked (`data-active-speaker`) and featured; undefined clears the mark. */
  markSpeaker(id: string | undefined): void {
    for (const tile of this.#tiles.values()) delete tile.el.dataset['activeSpeaker'];
    if (id === undefined || !this.#tiles.has(id)) return;
    this.#tiles.get(id)!.el.dataset['activeSpeaker'] = 'true';
    this.feature(id);
  }

  /** The tile shown large in the speaker layout. */
  feature(id: string): void {
    if (id === this.#featured || !this.#tiles.has(id)) return;
    this.#tiles.get(this.#featured ?? '')?.el.classList.remove('featured');
    this.#featured = id;
    this.#tiles.get(id)!.el.classList.add('featured');
  }

  add(tile: Tile): Tile {
    this.#tiles.set(tile.id, tile);
    this.el.append(tile.el);
    // Someone to show large until somebody speaks: the first remote tile (ours while alone).
    const featured = this.#featured === undefined ? undefined : this.#tiles.get(this.#featured);
    if (!featured || (featured.local && !tile.local)) this.feature(tile.id);
    this.#layout();
    return tile;
  }

  get(id: string): Tile | undefined {
    return this.#tiles.get(id);
  }

  remove(id: string): void {
    this.#tiles.get(id)?.el.remove();
    this.#tiles.delete(id);
    if (this.#featured === id) {
      this.#featured = undefined;
      const next = [...this.#tiles.values()].find((t) => !t.local) ?? [...this.#tiles.values()][0];
      if (next) this.feature(next.id);
    }
    this.#layout();
  }

  #layout(): void {
    const n = this.#tiles.size;
    this.el.style.setProperty('--cols', String(Math.ceil(Math.sqrt(n))));
    this.el.style.setProperty('--tiles', String(n));
    // Phones stack one or two people in one column, more in two.
    this.el.style.setProperty('--phone-cols', n <= 2 ? '1' : '2');
  }
}

/** A crossed-out microphone (inline SVG: no icon font or emoji font needed). */
function micOffIcon(): SVGSVGElement {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('width', '16');
  svg.setAttribute('height', '16');
  svg.setAttribute('aria-hidden', 'true');
  for (const d of ['M9 5a3 3 0 0 1 6 0v6a3 3 0 0 1-6 0z', 'M5 11a7 7 0 0 0 14 0M12 18v3', 'M3 3l18 18']) {
    const path = document.createElementNS(ns, 'path');
    path.setAttribute('d', d);
    path.setAttribute('fill', 'none');
    path.setAttribute('stroke', 'currentColor');
    path.setAttribute('stroke-width', '2');
    path.setAttribute('stroke-linecap', 'round');
    svg.append(path);
  }
  return svg;
}

function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  return parts.slice(0, 2).map((p) => [...p][0]!.toUpperCase()).join('') || '?';
}
