/**
 * Incoming files wait for consent: one prompt at a time (who, file name, size; Accept or
 * Decline), the others queue behind it. Nothing is stored before Accept. An offer the
 * sender cancels, or that fails while it waits (the peer went away), leaves the queue.
 *
 * The prompt does not take the keyboard focus (it may arrive mid-sentence in the chat);
 * it is announced as a status and its buttons are the next stops after the banners.
 */
import type { IncomingTransfer } from '@pinhole/client';
import { formatBytes, h } from './dom.js';

export interface OfferDecision {
  accept(from: string, transfer: IncomingTransfer): void;
  decline(from: string, transfer: IncomingTransfer): void;
}

export interface OfferPrompts {
  el: HTMLElement;
  /** Queues an offer from `from` (a display name). */
  add(from: string, transfer: IncomingTransfer): void;
}

interface Waiting {
  from: string;
  transfer: IncomingTransfer;
  off: () => void;
}

export function offerPrompts(decide: OfferDecision): OfferPrompts {
  const el = h('section', { class: 'offers', 'aria-label': 'Incoming files', role: 'status', hidden: true });
  const queue: Waiting[] = [];

  function render(): void {
    const first = queue[0];
    el.hidden = !first;
    if (!first) return void el.replaceChildren();
    const { from, transfer } = first;
    const more = queue.length - 1;
    el.replaceChildren(
      h(
        'div',
        { class: 'offer', 'data-id': transfer.id, 'data-name': transfer.name },
        h('span', { class: 'offer-text' }, `${from} wants to send you `, h('strong', { class: 'file-name' }, transfer.name), ` (${formatBytes(transfer.size)}).`),
        more > 0 ? h('span', { class: 'offer-more' }, `${more} more waiting`) : undefined,
        h('button', { type: 'button', class: 'primary small', 'data-action': 'accept', onclick: () => settle(transfer, 'accept') }, 'Accept'),
        h('button', { type: 'button', class: 'secondary small', 'data-action': 'decline', onclick: () => settle(transfer, 'decline') }, 'Decline'),
      ),
    );
  }

  function drop(transfer: IncomingTransfer): Waiting | undefined {
    const index = queue.findIndex((w) => w.transfer === transfer);
    if (index < 0) return undefined;
    const [waiting] = queue.splice(index, 1);
    waiting!.off();
    render();
    return waiting;
  }

  function settle(transfer: IncomingTransfer, choice: 'accept' | 'decline'): void {
    const waiting = drop(transfer);
    // Ended meanwhile (the sender cancelled between the render and the click): nothing to answer.
    if (!waiting || transfer.state !== 'offered') return;
    decide[choice](waiting.from, transfer);
  }

  return {
    el,
    add(from, transfer) {
      if (transfer.state !== 'offered') return;
      const offs = [transfer.on('cancelled', () => drop(transfer)), transfer.on('error', () => drop(transfer))];
      queue.push({ from, transfer, off: () => offs.forEach((off) => off()) });
      render();
    },
  };
}
