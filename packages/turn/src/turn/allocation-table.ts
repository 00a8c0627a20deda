import type { Allocation } from './allocation.js';

/**
 * Every allocation, by 5-tuple key (RFC 8656 §6: at most one per 5-tuple) and by id (relay
 * sockets report by id), with per-user counts for the quota (486).
 */
export class AllocationTable {
  private readonly byTuple = new Map<string, Allocation>();
  private readonly byId = new Map<number, Allocation>();
  private readonly perUser = new Map<string, number>();

  get size(): number {
    return this.byId.size;
  }

  add(allocation: Allocation): void {
    this.byTuple.set(allocation.tupleKey, allocation);
    this.byId.set(allocation.id, allocation);
    const key = allocation.owner.quotaKey;
    this.perUser.set(key, (this.perUser.get(key) ?? 0) + 1);
  }

  byTupleKey(key: string): Allocation | undefined {
    return this.byTuple.get(key);
  }

  get(id: number): Allocation | undefined {
    return this.byId.get(id);
  }

  countFor(quotaKey: string): number {
    return this.perUser.get(quotaKey) ?? 0;
  }

  delete(allocation: Allocation): boolean {
    if (this.byId.get(allocation.id) !== allocation) return false;
    this.byId.delete(allocation.id);
    this.byTuple.delete(allocation.tupleKey);
    const key = allocation.owner.quotaKey;
    const left = (this.perUser.get(key) ?? 1) - 1;
    if (left > 0) this.perUser.set(key, left);
    else this.perUser.delete(key);
    return true;
  }

  values(): IterableIterator<Allocation> {
    return this.byId.values();
  }
}
