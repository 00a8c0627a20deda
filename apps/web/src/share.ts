/**
 * Inviting people: the join link with a copy button, and a QR code of it for phones; and the
 * watch link (the call played without joining, watch.ts), with its own copy button.
 */
import QRCode from 'qrcode';
import { h } from './dom.js';

/** A read-only link field and a button copying it (or selecting it when the clipboard is refused); `status` tells which. */
function linkRow(link: string, label: string, button: string, action: string, status: HTMLElement): HTMLElement {
  const field = h('input', { type: 'text', readonly: true, value: link, 'aria-label': label, class: 'link' });
  field.addEventListener('focus', () => field.select());
  const copy = h('button', { type: 'button', class: 'secondary', 'data-action': action, onclick: () => void copyLink() }, button);

  async function copyLink(): Promise<void> {
    try {
      await navigator.clipboard.writeText(link);
      status.textContent = `${label} copied.`;
    } catch {
      // Clipboard API refused (no permission, not focused): select the text for Ctrl+C instead.
      field.focus();
      field.select();
      status.textContent = 'Press Ctrl+C (⌘C) to copy the selected link.';
    }
    setTimeout(() => (status.textContent = ''), 4000);
  }

  return h('div', { class: 'link-row' }, field, copy);
}

export function sharePanel(link: string, watchLink: string): HTMLElement {
  const status = h('span', { class: 'copy-status', role: 'status' });
  const qr = h('img', { class: 'qr', alt: `QR code of the join link ${link}`, width: '200', height: '200' });

  QRCode.toDataURL(link, { margin: 1, width: 200, errorCorrectionLevel: 'M' })
    .then((url) => (qr.src = url))
    .catch(() => qr.replaceWith(h('p', {}, 'The QR code could not be drawn; share the link instead.')));

  return h(
    'section',
    { class: 'share', 'aria-label': 'Invite people' },
    h('h2', {}, 'Invite'),
    h('p', { class: 'hint' }, 'Anyone with this link can join. Scan the code with a phone camera.'),
    linkRow(link, 'Join link', 'Copy link', 'copy-join', status),
    h('p', { class: 'hint' }, 'Or let people watch without joining: no camera, no microphone, not in the call.'),
    linkRow(watchLink, 'Watch link', 'Share watch link', 'copy-watch', status),
    status,
    qr,
  );
}
