/**
 * The named channels of one ChannelHost (one remote peer). One `Channels` per host: it
 * claims every RTCDataChannel labelled `pinhole-channel:<name>` and re-creates the ones
 * this side opened after each host reset.
 *
 *   const channels = new Channels(host);
 *   const chat = channels.open('chat');                  // reliable, ordered
 *   const cursor = channels.open('cursor', { reliable: false });
 *   channels.on('channel', (ch) => ch.on('message', (m) => …)); // opened by the peer
 */
import { Emitter } from '../emitter.js';
import { claimHost } from './claim.js';
import { channelInit, isReliable, NamedChannel, resolveChannelOptions } from './channel.js';
import type { ChannelOptions, ResolvedChannelOptions } from './channel.js';
import { CHANNEL_LABEL_PREFIX } from '../defaults.js';
import { DataError } from './errors.js';
import { messageLimit, type ChannelHost } from './host.js';

export type ChannelsEvents = {
  /** The peer opened a channel this side had not opened. */
  channel: NamedChannel;
};

export class Channels extends Emitter<ChannelsEvents> {
  readonly #host: ChannelHost;
  readonly #defaults: ChannelOptions;
  readonly #channels = new Map<string, NamedChannel>();
  /** Channels whose peer-created RTCDataChannel arrived since the last reset. */
  #arrived = new Set<NamedChannel>();
  readonly #release: () => void;
  readonly #unsubscribe: (() => void)[];
  #closed = false;

  /** `defaults` apply to channels this side opens and to ones the peer opens (water marks, queue cap). */
  constructor(host: ChannelHost, defaults: ChannelOptions = {}) {
    super();
    this.#release = claimHost(host, 'channels');
    this.#host = host;
    this.#defaults = defaults;
    this.#unsubscribe = [host.on('datachannel', (dc) => this.#incoming(dc)), host.on('reset', () => this.#reset())];
  }

  /**
   * Opens (or returns the existing) channel `name`. Sends before it opens are queued
   * (reliable) or dropped (unreliable); wait for its 'open' event when that matters.
   */
  open(name: string, options: ChannelOptions = {}): NamedChannel {
    if (this.#closed) throw new DataError('closed', 'Channels was closed');
    const existing = this.#channels.get(name);
    if (existing) return existing;
    const channel = this.#add(name, true, resolveChannelOptions({ ...this.#defaults, ...options }));
    this.#create(channel);
    return channel;
  }

  get(name: string): NamedChannel | undefined {
    return this.#channels.get(name);
  }

  /** Closes every channel and stops listening to the host. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const off of this.#unsubscribe) off();
    for (const channel of [...this.#channels.values()]) channel.close();
    this.#release();
    this.removeAllListeners();
  }

  #add(name: string, initiator: boolean, options: ResolvedChannelOptions): NamedChannel {
    const onClosed = (ch: NamedChannel): void => {
      if (this.#channels.get(name) === ch) this.#channels.delete(name);
      this.#arrived.delete(ch);
    };
    const channel = new NamedChannel(name, initiator, options, onClosed, () => messageLimit(this.#host));
    this.#channels.set(name, channel);
    return channel;
  }

  #create(channel: NamedChannel): void {
    const state = this.#host.connectionState;
    // A closed or failed connection is about to be rebuilt: create on 'reset' instead.
    if (state === 'closed' || state === 'failed') return;
    let dc: RTCDataChannel;
    try {
      dc = this.#host.createDataChannel(CHANNEL_LABEL_PREFIX + channel.name, channelInit(channel.reliable));
    } catch {
      return; // the connection went away under us; 'reset' will bring a new one
    }
    channel.bind(dc, true);
  }

  #incoming(dc: RTCDataChannel): void {
    if (!dc.label.startsWith(CHANNEL_LABEL_PREFIX)) return;
    const name = dc.label.slice(CHANNEL_LABEL_PREFIX.length);
    let channel = this.#channels.get(name);
    const fresh = !channel;
    if (!channel) {
      channel = this.#add(name, false, resolveChannelOptions({ ...this.#defaults, reliable: isReliable(dc) }));
    }
    this.#arrived.add(channel);
    channel.bind(dc, false);
    if (fresh) this.emit('channel', channel);
  }

  #reset(): void {
    const arrived = this.#arrived;
    this.#arrived = new Set();
    for (const channel of this.#channels.values()) {
      channel.reset(arrived.has(channel));
      if (channel.initiator) this.#create(channel);
    }
  }
}
