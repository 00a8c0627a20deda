/**
 * Inviting people: the join link with a copy button, and a QR code of it for phones.
 */
import QRCode from 'qrcode';
import { h } from './dom.js';

export function sharePanel(link: string): HTMLElement {
  const status = h('span', { class: 'copy-status', role: 'status' });
  const copy = h('button', { type: 'button', class: 'secondary', onclick: () => void copyLink() }, 'Copy link');
  const qr = h('img', { class: 'qr', alt: `QR code of the join link ${link}`, width: '200', height: '200' });
  const field = h('input', { type: 'text', readonly: true, value: link, 'aria-label': 'Join link', class: 'link' });
  field.addEventListener('focus', () => field.select());

  async function copyLink(): Promise<void> {
    try {
      await navigator.clipboard.writeText(link);
      status.textContent = 'Link copied.';
    } catch {
      // Clipboard API refused (no permission, not focused): select the text for Ctrl+C instead.
      field.focus();
      field.select();
      status.textContent = 'Press Ctrl+C (⌘C) to copy the selected link.';
    }
    setTimeout(() => (status.textContent = ''), 4000);
  }

  QRCode.toDataURL(link, { margin: 1, width: 200, errorCorrectionLevel: 'M' })
    .then((url) => (qr.src = url))
    .catch(() => qr.replaceWith(h('p', {}, 'The QR code could not be drawn; share the link instead.')));

  return h(
    'section',
    { class: 'share', 'aria-label': 'Invite people' },
    h('h2', {}, 'Invite'),
    h('p', { class: 'hint' }, 'Anyone with this link can join. Scan the code with a phone camera.'),
    h('div', { class: 'link-row' }, field, copy),
    status,
    qr,
  );
}
