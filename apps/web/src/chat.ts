/**
 * Chat that loses and duplicates nothing across reconnects. Messages go peer to peer over a
 * named data channel, which can lose what is in flight when a connection dies, and a hub
 * restart gives every peer a new id. So:
 * - every message has an id `<client>:<n>` (client = a random id per page, carried in the
 *   room meta, stable across new peer ids);
 * - the receiver acknowledges every message (again for duplicates) and shows an id once;
 * - the sender keeps each message per recipient client until acknowledged, and sends the
 *   unacknowledged ones again whenever a link to that client (re)opens.
 * Pure logic: links are `{ send }` objects, so it is tested without a browser.
 */
export interface ChatMessage {
  id: string;
  /** Sender's client id. */
  from: string;
  name: string;
  text: string;
  /** Sender's clock, ms since epoch (display only). */
  at: number;
}

export type ChatWire = { t: 'msg'; m: ChatMessage } | { t: 'ack'; id: string };

export interface ChatLink {
  send(wire: ChatWire): void;
}

export const MAX_CHAT_TEXT = 4000;
/** Unacknowledged messages kept per recipient; the oldest go first past it. */
export const MAX_PENDING_PER_CLIENT = 1000;

export class Chat {
  readonly messages: ChatMessage[] = [];
  readonly #seen = new Set<string>();
  /** Recipient client → its unacknowledged messages, in send order. */
  readonly #pending = new Map<string, Map<string, ChatMessage>>();
  readonly #links = new Map<string, ChatLink>();
  readonly #listeners = new Set<(m: ChatMessage) => void>();
  #seq = 0;

  constructor(
    readonly clientId: string,
    public name: string,
    readonly now: () => number = Date.now,
  ) {}

  /** Called for every new message, ours and others'. Returns the unsubscribe. */
  onMessage(listener: (m: ChatMessage) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Clients that are (or will be again) recipients. */
  get recipients(): string[] {
    return [...this.#pending.keys()];
  }

  /** Sends `text` to every known client; returns the message, or undefined for empty text. */
  send(text: string): ChatMessage | undefined {
    const trimmed = text.trim().slice(0, MAX_CHAT_TEXT);
    if (!trimmed) return undefined;
    const message: ChatMessage = { id: `${this.clientId}:${++this.#seq}`, from: this.clientId, name: this.name, text: trimmed, at: this.now() };
    this.#show(message);
    for (const [client, pending] of this.#pending) {
      pending.set(message.id, message);
      if (pending.size > MAX_PENDING_PER_CLIENT) pending.delete(pending.keys().next().value!);
      this.#links.get(client)?.send({ t: 'msg', m: message });
    }
    return message;
  }

  /** A client is in the room (its link may come later): messages from now on are kept for it. */
  know(client: string): void {
    if (client !== this.clientId && !this.#pending.has(client)) this.#pending.set(client, new Map());
  }

  /**
   * A link to `client` is up (first time or again): everything it has not acknowledged is
   * sent again. Returns the detach function (the client stays known).
   */
  attach(client: string, link: ChatLink): () => void {
    this.know(client);
    this.#links.set(client, link);
    this.resend(client);
    return () => {
      if (this.#links.get(client) === link) this.#links.delete(client);
    };
  }

  /** Sends `client`'s unacknowledged messages again (after its channel reopened). */
  resend(client: string): void {
    const link = this.#links.get(client);
    for (const message of this.#pending.get(client)?.values() ?? []) link?.send({ t: 'msg', m: message });
  }

  /** The client left for good: nothing more is kept for it. */
  forget(client: string): void {
    this.#pending.delete(client);
    this.#links.delete(client);
  }

  /** Handles what arrived from `client`'s link; anything malformed is ignored (returns false). */
  receive(client: string, data: unknown): boolean {
    if (isAck(data)) {
      this.#pending.get(client)?.delete(data.id);
      return true;
    }
    if (!isMessageWire(data)) return false;
    const message = data.m;
    this.#links.get(client)?.send({ t: 'ack', id: message.id });
    if (!this.#seen.has(message.id)) this.#show({ ...message, text: message.text.slice(0, MAX_CHAT_TEXT) });
    return true;
  }

  /** Messages to `client` still waiting for an acknowledgement. */
  pendingFor(client: string): number {
    return this.#pending.get(client)?.size ?? 0;
  }

  #show(message: ChatMessage): void {
    this.#seen.add(message.id);
    this.messages.push(message);
    for (const listener of this.#listeners) listener(message);
  }
}

function isAck(data: unknown): data is { t: 'ack'; id: string } {
  const d = data as { t?: unknown; id?: unknown } | null;
  return typeof d === 'object' && d !== null && d.t === 'ack' && typeof d.id === 'string';
}

function isMessageWire(data: unknown): data is { t: 'msg'; m: ChatMessage } {
  const d = data as { t?: unknown; m?: Partial<Record<keyof ChatMessage, unknown>> } | null;
  if (typeof d !== 'object' || d === null || d.t !== 'msg' || typeof d.m !== 'object' || d.m === null) return false;
  const m = d.m;
  return typeof m.id === 'string' && typeof m.from === 'string' && typeof m.name === 'string' && typeof m.text === 'string' && typeof m.at === 'number';
}
