/**
 * Request/reply over a named channel, used by the `agent` and `files` services:
 *
 *   request  {id, op, ...params}                  JSON; id: a number or string the client picks
 *   reply    {id, ok: true, ...result}
 *            {id, ok: false, error: {code, message}}   id null when the request had none
 *
 * Replies may come in any order (a `get` answers after opening its file).
 */
import type { NamedChannel } from '@pinhole/node';
import { DEFAULT_REQUEST_TIMEOUT_MS, REFUSE_GRACE_MS } from './defaults.js';
import { AgentError, fromWire, toWire } from './errors.js';
import type { AgentLogger } from './logger.js';

export type RequestId = number | string;
export interface Request {
  id: RequestId;
  op: string;
  [param: string]: unknown;
}

/** Answers every request on `channel` with `handle`'s result or its error (the channel survives bad input). */
export function serveRequests(channel: NamedChannel, handle: (req: Request) => Promise<object>, logger: AgentLogger, context: object): void {
  channel.on('message', (m) => {
    const req = m.kind === 'json' ? (m.data as Partial<Request> | null) : undefined;
    const id = req && typeof req === 'object' && (typeof req.id === 'number' || typeof req.id === 'string') ? req.id : null;
    const reply = (body: object): void => {
      if (channel.state === 'closed') return;
      try {
        channel.send({ id, ...body });
      } catch (err) {
        logger.warn({ ...context, err: (err as Error).message }, 'reply not sent');
      }
    };
    if (!req || typeof req !== 'object' || Array.isArray(req) || id === null || typeof req.op !== 'string') {
      reply({ ok: false, error: toWire(new AgentError('bad-request', `a request is a JSON object with an id and an op (got a ${m.kind} message)`)) });
      return;
    }
    handle(req as Request).then(
      (result) => reply({ ok: true, ...result }),
      (err: unknown) => {
        if (!(err instanceof AgentError)) logger.error({ ...context, op: req.op, err: (err as Error).message }, 'request failed');
        reply({ ok: false, error: toWire(err) });
      },
    );
  });
}

/**
 * Refuses a channel that is no service: one error reply, then the channel closes. The
 * client closes it when the reply arrives; closing here at once could reset the stream
 * before the reply is delivered, so this side only closes after REFUSE_GRACE_MS.
 */
export function refuseChannel(channel: NamedChannel, error: AgentError): void {
  const refuse = () => {
    try {
      channel.send({ id: null, ok: false, error: toWire(error) });
    } catch {
      // closed under us
    }
    setTimeout(() => channel.close(), REFUSE_GRACE_MS).unref();
  };
  if (channel.state === 'open') refuse();
  else channel.once('open', refuse);
}

/** The client side: numbered requests, replies matched by id, typed errors. */
export class Requester {
  #next = 1;
  readonly #pending = new Map<RequestId, { resolve: (r: Record<string, unknown>) => void; reject: (e: AgentError) => void; timer: ReturnType<typeof setTimeout> }>();

  constructor(
    readonly channel: NamedChannel,
    readonly timeoutMs = DEFAULT_REQUEST_TIMEOUT_MS,
  ) {
    channel.on('message', (m) => {
      if (m.kind !== 'json' || typeof m.data !== 'object' || m.data === null) return;
      const reply = m.data as { id?: RequestId | null; ok?: boolean; error?: unknown };
      if (reply.id === null || reply.id === undefined) {
        // A reply to no request: the channel itself was refused (unknown-service).
        if (reply.ok === false && reply.error !== undefined && (reply.error as { code?: unknown }).code === 'unknown-service') {
          this.#rejectAll(fromWire(reply.error));
          channel.close();
        }
        return;
      }
      const pending = this.#pending.get(reply.id);
      if (!pending) return;
      this.#pending.delete(reply.id);
      clearTimeout(pending.timer);
      if (reply.ok === true) pending.resolve(reply as Record<string, unknown>);
      else pending.reject(fromWire(reply.error));
    });
    channel.on('close', () => this.#rejectAll(new AgentError('closed', `channel '${channel.name}' closed`)));
  }

  /** Sends `{id, op, ...params}`; resolves with the reply's fields, rejects with an AgentError. */
  request<T = Record<string, unknown>>(op: string, params: object = {}, onId?: (id: number) => void): Promise<T> {
    const id = this.#next++;
    onId?.(id);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new AgentError('timeout', `no reply to '${op}' within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.#pending.set(id, { resolve: resolve as (r: Record<string, unknown>) => void, reject, timer });
      try {
        this.channel.send({ ...params, id, op });
      } catch (err) {
        clearTimeout(timer);
        this.#pending.delete(id);
        reject(new AgentError('closed', `cannot send '${op}': ${(err as Error).message}`, { cause: err }));
      }
    });
  }

  #rejectAll(error: AgentError): void {
    for (const [id, p] of this.#pending) {
      clearTimeout(p.timer);
      this.#pending.delete(id);
      p.reject(error);
    }
  }
}
