/**
 * The files panel: send to one participant or everyone (file picker or drag-and-drop),
 * and one row per transfer with a progress bar, rate, ETA, cancel, and a download link
 * once an incoming file is complete and verified (the SDK checks its SHA-256). Incoming
 * files get a row once accepted (offers.ts asks first); a declined one shows as declined
 * on both sides.
 */
import { blobSink, type IncomingTransfer, type OutgoingTransfer, type RemotePeer } from '@pinhole/client';
import { formatBytes, formatEta, h } from './dom.js';

type AnyTransfer = IncomingTransfer | OutgoingTransfer;

export interface FilesPanel {
  el: HTMLElement;
  /** Participants the recipient picker offers (besides "Everyone"). */
  setPeers(peers: { id: string; name: string }[]): void;
  /** Sends files to `to` (a peer id), or to the picker's choice when omitted. */
  send(files: Iterable<File>, to?: string): void;
  /** Accepts an incoming file from `name` into memory (a Blob) and shows it. */
  receive(name: string, transfer: IncomingTransfer): void;
  /** Declines an incoming file from `name` (the sender is told); nothing is stored. */
  decline(name: string, transfer: IncomingTransfer): void;
  /** Makes `target` a drop zone sending to `to` (or to the picker's choice). */
  dropZone(target: HTMLElement, to?: () => string | undefined): void;
}

export function filesPanel(peerById: (id: string) => { peer: RemotePeer; name: string } | undefined, allPeers: () => { peer: RemotePeer; name: string }[]): FilesPanel {
  const picker = h('select', { 'aria-label': 'Send files to', name: 'to' }, h('option', { value: '' }, 'Everyone'));
  const input = h('input', { type: 'file', multiple: true, class: 'visually-hidden', 'aria-label': 'Choose files to send', tabindex: '-1' });
  const choose = h('button', { type: 'button', onclick: () => input.click() }, 'Choose files…');
  const list = h('ul', { class: 'transfers', 'aria-label': 'File transfers' });
  const empty = h('p', { class: 'hint' }, 'Drop files here or on someone\u2019s video to send them.');
  input.addEventListener('change', () => {
    if (input.files) send(input.files);
    input.value = '';
  });

  function send(files: Iterable<File>, to: string | undefined = picker.value || undefined): void {
    const targets = to ? [peerById(to)].filter((p) => p !== undefined) : allPeers();
    if (targets.length === 0) {
      list.prepend(h('li', { class: 'transfer', 'data-state': 'failed' }, 'Nobody to send to yet: wait for someone to join.'));
      return;
    }
    for (const file of files) {
      for (const { peer, name } of targets) addRow(peer.sendFile(file), `to ${name}`);
    }
  }

  function receive(name: string, transfer: IncomingTransfer): void {
    transfer.accept(blobSink(transfer.type ? { type: transfer.type } : {}));
    addRow(transfer, `from ${name}`);
  }

  function decline(name: string, transfer: IncomingTransfer): void {
    transfer.reject('declined');
    empty.hidden = true;
    list.prepend(
      h(
        'li',
        { class: 'transfer', 'data-direction': 'in', 'data-state': 'declined', 'data-id': transfer.id },
        h('span', { class: 'file-name' }, transfer.name),
        h('span', { class: 'who' }, `${formatBytes(transfer.size)} from ${name}`),
        h('span', { class: 'stats' }, 'You declined it.'),
      ),
    );
  }

  function addRow(transfer: AnyTransfer, who: string): void {
    empty.hidden = true;
    const incoming = transfer.direction === 'incoming';
    const bar = h('progress', { max: String(transfer.size), value: '0', 'aria-label': `${transfer.name} progress` });
    const stats = h('span', { class: 'stats' }, incoming ? 'receiving…' : 'waiting for them to accept…');
    const cancel = h('button', { type: 'button', class: 'secondary small', onclick: () => transfer.cancel('cancelled by the user') }, 'Cancel');
    const actions = h('span', { class: 'actions' }, cancel);
    const row = h(
      'li',
      { class: 'transfer', 'data-direction': incoming ? 'in' : 'out', 'data-state': 'active', 'data-id': transfer.id },
      h('span', { class: 'file-name' }, transfer.name),
      h('span', { class: 'who' }, `${formatBytes(transfer.size)} ${who}`),
      bar,
      stats,
      actions,
    );
    list.prepend(row);
    transfer.on('progress', (p) => {
      bar.value = p.bytes;
      const percent = p.total ? Math.floor((p.bytes / p.total) * 100) : 100;
      stats.textContent = `${percent}% · ${formatBytes(p.bytes)} of ${formatBytes(p.total)} · ${formatBytes(p.rate)}/s · ${formatEta(p.eta)} left`;
    });
    transfer.on('interrupted', () => (stats.textContent = 'connection lost, resuming…'));
    let rejectReason: string | undefined;
    transfer.on('cancelled', ({ rejected, reason }) => rejected && (rejectReason = reason));
    transfer.finished().then(
      (result) => {
        row.dataset['state'] = 'done';
        bar.value = transfer.size;
        stats.textContent = `100% · ${formatBytes(result.bytes)} · SHA-256 verified`;
        if (incoming && result.result instanceof Blob) {
          const href = URL.createObjectURL(result.result);
          actions.replaceChildren(h('a', { href, download: transfer.name, class: 'button small' }, `Download ${transfer.name}`));
        } else {
          actions.replaceChildren(h('span', { class: 'ok' }, 'Sent'));
        }
      },
      (err: unknown) => {
        const code = (err as { code?: string }).code;
        row.dataset['state'] = code === 'rejected' ? 'declined' : code === 'cancelled' ? 'cancelled' : 'failed';
        stats.textContent = code === 'rejected' ? (rejectReason === 'too-large' ? 'Declined: too large for them.' : 'Declined.') : code === 'cancelled' ? 'Cancelled.' : `Failed: ${(err as Error).message}`;
        actions.replaceChildren();
      },
    );
  }

  function dropZone(target: HTMLElement, to?: () => string | undefined): void {
    target.addEventListener('dragover', (event) => {
      if (!event.dataTransfer?.types.includes('Files')) return;
      event.preventDefault();
      event.stopPropagation();
      target.classList.add('drop-target');
    });
    target.addEventListener('dragleave', () => target.classList.remove('drop-target'));
    target.addEventListener('drop', (event) => {
      target.classList.remove('drop-target');
      if (!event.dataTransfer?.files.length) return;
      event.preventDefault();
      event.stopPropagation();
      send(event.dataTransfer.files, to?.() ?? (picker.value || undefined));
    });
  }

  const el = h(
    'section',
    { class: 'files', 'aria-label': 'Files' },
    h('div', { class: 'file-controls' }, h('label', {}, 'Send to ', picker), choose, input),
    empty,
    list,
  );
  dropZone(el);

  return {
    el,
    send,
    receive,
    decline,
    dropZone,
    setPeers(peers) {
      const current = picker.value;
      picker.replaceChildren(h('option', { value: '' }, 'Everyone'), ...peers.map((p) => h('option', { value: p.id }, p.name)));
      picker.value = peers.some((p) => p.id === current) ? current : '';
    },
  };
}
