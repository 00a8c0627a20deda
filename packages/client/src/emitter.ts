/**
 * A small typed event emitter used by every SDK object (session, room, peer, transfer).
 * `on` returns the function that removes the listener. A throwing listener does not stop
 * the others: its error is reported on `globalThis.reportError` when present, else rethrown
 * asynchronously, so one bad handler cannot break the SDK's state machines.
 */
import { CodedError } from './coded-error.js';

export type EventMap = { [event: string]: unknown };
type Listener<T> = (payload: T) => void;

export class Emitter<E extends EventMap> {
  #listeners = new Map<keyof E, Set<Listener<never>>>();

  on<K extends keyof E>(event: K, listener: Listener<E[K]>): () => void {
    let set = this.#listeners.get(event);
    if (!set) this.#listeners.set(event, (set = new Set()));
    set.add(listener as Listener<never>);
    return () => this.off(event, listener);
  }

  once<K extends keyof E>(event: K, listener: Listener<E[K]>): () => void {
    const off = this.on(event, (payload) => {
      off();
      listener(payload);
    });
    return off;
  }

  off<K extends keyof E>(event: K, listener: Listener<E[K]>): void {
    this.#listeners.get(event)?.delete(listener as Listener<never>);
  }

  /** Resolves with the next payload of `event`; after `timeoutMs` (when given) rejects with a CodedError `timeout`. */
  next<K extends keyof E>(event: K, timeoutMs?: number): Promise<E[K]> {
    return new Promise((resolve, reject) => {
      const off = this.once(event, (payload) => {
        if (timer) clearTimeout(timer);
        resolve(payload);
      });
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              off();
              reject(new CodedError('timeout', `timed out after ${timeoutMs} ms waiting for '${String(event)}'`));
            }, timeoutMs);
    });
  }

  protected emit<K extends keyof E>(event: K, payload: E[K]): void {
    const set = this.#listeners.get(event);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        (listener as Listener<E[K]>)(payload);
      } catch (err) {
        const report = (globalThis as { reportError?: (e: unknown) => void }).reportError;
        if (report) report(err);
        else queueMicrotask(() => {
          throw err;
        });
      }
    }
  }

  protected removeAllListeners(): void {
    this.#listeners.clear();
  }
}
