/**
 * Event handlers that may have to wait: while held, `run` queues them; `release` runs
 * them in order (one that causes another keeps it behind the rest) and lets later ones run
 * at once. Rooms hold their signaler's events until a join's members exist, and the
 * signaler chain holds a new rung's until every room has its `rejoined`.
 */
export class HeldEvents {
  #queue: (() => void)[] | undefined;

  hold(): void {
    this.#queue ??= [];
  }

  run(handler: () => void): void {
    if (this.#queue) this.#queue.push(handler);
    else handler();
  }

  release(): void {
    const queue = this.#queue ?? [];
    for (let handler = queue.shift(); handler; handler = queue.shift()) handler();
    this.#queue = undefined;
  }

  /** Forgets what is queued (its source is gone) and stops holding. */
  drop(): void {
    this.#queue = undefined;
  }
}
