/**
 * Sessions that ended by overflow, remembered for a while (id → key) so that their
 * client's next poll or stream gets `overflow` rather than `session-unknown`
 * (docs/protocol/hub.md §4.2). Bounded: past `capacity`, the oldest are forgotten first.
 */
export class Tombstones {
  /** In insertion order, which is expiry order (one lifetime for all). */
  readonly #entries = new Map<string, { key: string; until: number }>();

  constructor(private readonly capacity: number) {}

  add(id: string, key: string, until: number, now: number): void {
    this.#entries.set(id, { key, until });
    for (const [old, entry] of this.#entries) {
      if (this.#entries.size <= this.capacity && entry.until > now) break;
      this.#entries.delete(old);
    }
  }

  /** The key of session `id` if it ended by overflow and is still remembered. */
  key(id: string, now: number): string | undefined {
    const entry = this.#entries.get(id);
    if (entry && entry.until <= now) this.#entries.delete(id);
    return entry && entry.until > now ? entry.key : undefined;
  }
}
