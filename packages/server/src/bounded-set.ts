/** A set that forgets its oldest entries past `capacity` (insertion order). */
export class BoundedSet<T> {
  readonly #items = new Set<T>();
  constructor(private readonly capacity: number) {}

  /** Adds `item`; false if it was already present. */
  add(item: T): boolean {
    if (this.#items.has(item)) return false;
    this.#items.add(item);
    if (this.#items.size > this.capacity) this.#items.delete(this.#items.values().next().value as T);
    return true;
  }
}
