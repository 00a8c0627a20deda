/** The SFU's `pinhole:sfu-viewers` signal (docs/protocol/sfu.md §15.2): how many watch the room. */
export const SFU_VIEWERS = 'pinhole:sfu-viewers';

/** The count of a `pinhole:sfu-viewers` signal, or undefined for anything else. */
export function viewersOf(data: unknown): number | undefined {
  const d = data as { type?: unknown; count?: unknown } | null;
  if (typeof d !== 'object' || d === null || d.type !== SFU_VIEWERS) return undefined;
  return typeof d.count === 'number' && Number.isInteger(d.count) && d.count >= 0 ? d.count : undefined;
}
