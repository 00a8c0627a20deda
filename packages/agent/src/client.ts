/**
 * The client side of an agent's services, for Node peers (`pinhole connect`, tests):
 * find the agent in a room, then `info`, `echo`, `list`/`stat`/`download` and `forward`.
 *
 *   const room = await session.join('ops');
 *   const agent = await AgentClient.find(room);
 *   await agent.download('logs/app.log', './app.log', { offset: 'resume' });
 *   const fwd = await agent.forward({ port: 2222, target: 'ssh' });
 */
import { stat } from 'node:fs/promises';
import type { ChannelMessage, IncomingTransfer, RemotePeer, Room, Sendable, TransferResult } from '@pinhole/node';
import { DEFAULT_REQUEST_TIMEOUT_MS, SERVICE_CHANNELS } from './defaults.js';
import { AgentError } from './errors.js';
import type { AgentAnnouncement } from './agent.js';
import { LocalForward, type LocalForwardOptions } from './local-forward.js';
import { rangeSink } from './range-sink.js';
import { Requester } from './rpc.js';
import type { FileEntry, GetReply } from './services/files.js';

export interface DownloadResult extends TransferResult {
  path: string;
  /** Where this download started in the file (0, or the size of the partial file it resumed). */
  offset: number;
  /** The whole file's size. */
  size: number;
}

/** The announcement of a room member that is an agent, or undefined. */
export function agentOf(peer: RemotePeer): AgentAnnouncement | undefined {
  const a = peer.meta.agent;
  return a && typeof a === 'object' && !Array.isArray(a) && typeof (a as { version?: unknown }).version === 'number' ? (a as unknown as AgentAnnouncement) : undefined;
}

export class AgentClient {
  readonly #requesters = new Map<string, Requester>();
  readonly #downloads = new Map<number, (t: IncomingTransfer) => void>();
  readonly #off: () => void;

  constructor(
    readonly peer: RemotePeer,
    readonly timeoutMs = DEFAULT_REQUEST_TIMEOUT_MS,
  ) {
    this.#off = peer.on('file', (transfer) => {
      const request = (transfer.meta as { request?: unknown } | undefined)?.request;
      const take = typeof request === 'number' ? this.#downloads.get(request) : undefined;
      if (take) take(transfer);
      else transfer.reject('not requested');
    });
  }

  /** Waits for an agent in `room` (optionally by name) and for its peer connection. */
  static async find(room: Room, options: { name?: string; timeoutMs?: number } = {}): Promise<AgentClient> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    const matches = (p: RemotePeer) => {
      const a = agentOf(p);
      return a !== undefined && (options.name === undefined || a.name === options.name);
    };
    let peer = [...room.peers.values()].find(matches);
    if (!peer) {
      peer = await new Promise<RemotePeer>((resolve, reject) => {
        const timer = setTimeout(() => (off(), reject(new AgentError('no-agent', `no agent${options.name ? ` named ${options.name}` : ''} in room '${room.name}' within ${timeoutMs} ms`))), timeoutMs);
        const off = room.on('peer-joined', (p) => {
          if (!matches(p)) return;
          clearTimeout(timer);
          off();
          resolve(p);
        });
      });
    }
    const client = new AgentClient(peer, timeoutMs);
    await client.connected(timeoutMs);
    return client;
  }

  get announcement(): AgentAnnouncement | undefined {
    return agentOf(this.peer);
  }

  /** Resolves once the peer connection to the agent is connected. */
  async connected(timeoutMs = this.timeoutMs): Promise<void> {
    if (this.peer.connection?.connectionState === 'connected') return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => (off(), reject(new AgentError('timeout', `no connection to the agent within ${timeoutMs} ms`))), timeoutMs);
      const off = this.peer.on('state', (s) => {
        if (s !== 'connected') return;
        clearTimeout(timer);
        off();
        resolve();
      });
    });
  }

  info(): Promise<AgentAnnouncement> {
    return this.#requester(SERVICE_CHANNELS.agent).request<AgentAnnouncement>('info');
  }

  /** Sends one message on the echo channel and resolves with what comes back. */
  async echo(data: Sendable): Promise<ChannelMessage> {
    const channel = this.peer.channel(SERVICE_CHANNELS.echo);
    const reply = channel.next('message', this.timeoutMs).catch(() => {
      throw new AgentError('timeout', `no echo within ${this.timeoutMs} ms`);
    });
    channel.send(data);
    return reply;
  }

  /** Sends a request on any service channel (also one the agent does not have: tests, tools). */
  request<T = Record<string, unknown>>(service: string, op: string, params: object = {}): Promise<T> {
    return this.#requester(service).request<T>(op, params);
  }

  list(path = '.'): Promise<{ path: string; entries: FileEntry[]; truncated: boolean }> {
    return this.request('files', 'list', { path });
  }

  async stat(path: string): Promise<FileEntry> {
    return (await this.request<{ entry: FileEntry }>('files', 'stat', { path })).entry;
  }

  /**
   * Downloads `path` of the agent's share to `dest`. `offset: 'resume'` goes on from the
   * size of an existing `dest` (a download cut short earlier); the transfer's SHA-256 covers
   * the bytes sent this time. Transfers also resume by themselves across a connection rebuild.
   */
  async download(path: string, dest: string, options: { offset?: number | 'resume'; onTransfer?: (t: IncomingTransfer) => void } = {}): Promise<DownloadResult> {
    const offset = options.offset === 'resume' ? await sizeOf(dest) : (options.offset ?? 0);
    let requestId = -1;
    let take: ((t: IncomingTransfer) => void) | undefined;
    const arrived = new Promise<IncomingTransfer>((resolve) => (take = resolve));
    let reply: GetReply;
    try {
      reply = await this.#requester(SERVICE_CHANNELS.files).request<GetReply>('get', { path, offset }, (id) => {
        requestId = id;
        this.#downloads.set(id, take!);
      });
    } catch (err) {
      this.#downloads.delete(requestId);
      throw err;
    }
    const transfer = await arrived;
    this.#downloads.delete(requestId);
    if (transfer.id !== reply.transfer) throw new AgentError('bad-message', `transfer ${transfer.id} is not the one announced (${reply.transfer})`);
    options.onTransfer?.(transfer);
    transfer.accept(rangeSink(dest, reply.offset));
    const result = await transfer.finished();
    return { ...result, path: dest, offset: reply.offset, size: reply.size };
  }

  /** Listens on a local port; every connection is tunnelled to the agent's `target`. */
  forward(options: Omit<LocalForwardOptions, 'peer'>): Promise<LocalForward> {
    return LocalForward.listen({ ...options, peer: () => this.peer });
  }

  close(): void {
    this.#off();
    for (const r of this.#requesters.values()) r.channel.close();
    this.#requesters.clear();
  }

  #requester(service: string): Requester {
    let r = this.#requesters.get(service);
    if (!r || r.channel.state === 'closed') {
      r = new Requester(this.peer.channel(service), this.timeoutMs);
      this.#requesters.set(service, r);
    }
    return r;
  }
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}
