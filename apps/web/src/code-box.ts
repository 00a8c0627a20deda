/**
 * The two halves of a code exchange on the "no server" page: showing our code (text with
 * a copy button, and a QR code to scan) and taking the other side's (paste, or scan with
 * the camera). Problems are shown in the box; the box stays usable for another try.
 */
import QRCode from 'qrcode';
import { MANUAL_PREFIX } from '@pinhole/client';
import { h } from './dom.js';
import { scanQr, type Scanner } from './qr-scan.js';

/**
 * Error correction L (7 %): a code on a screen is not torn or smudged, and every level up
 * costs a QR version or two (more, smaller modules to scan).
 */
const QR_LEVEL = 'L';

/** Our code, to hand over. `data-length` and `data-qr-version` record what it costs. */
export function showCode(code: string, label: string): HTMLElement {
  const id = `code-${label.replace(/\W+/g, '-').toLowerCase()}`;
  const field = h('textarea', { id, readonly: true, rows: '4', class: 'code', spellcheck: 'false', 'aria-describedby': `${id}-size` });
  field.value = code;
  field.addEventListener('focus', () => field.select());
  const status = h('span', { class: 'copy-status', role: 'status' });
  const copy = h('button', { type: 'button', class: 'primary', onclick: () => void copyCode() }, `Copy ${label}`);
  let version: number | undefined;
  try {
    version = QRCode.create(code, { errorCorrectionLevel: QR_LEVEL }).version;
  } catch {
    version = undefined; // longer than a QR code holds: pasting still works
  }
  const size = h('p', { class: 'hint', id: `${id}-size` }, `${code.length} characters${version ? ` · QR code version ${version}` : ' · too long for a QR code: copy and paste it'}`);
  const qr = h('img', { class: 'qr code-qr', alt: `QR code of the ${label}`, width: '320', height: '320' });
  if (version) {
    QRCode.toDataURL(code, { errorCorrectionLevel: QR_LEVEL, margin: 4, scale: 8 })
      .then((url) => (qr.src = url))
      .catch(() => qr.replaceWith(h('p', { class: 'hint' }, 'The QR code could not be drawn; copy the text instead.')));
  }

  async function copyCode(): Promise<void> {
    try {
      await navigator.clipboard.writeText(code);
      status.textContent = 'Copied. Send it to the other person (chat, e-mail, message).';
    } catch {
      field.focus();
      field.select();
      status.textContent = 'Press Ctrl+C (\u2318C) to copy the selected code.';
    }
  }

  return h(
    'div',
    { class: 'code-box', 'data-length': String(code.length), 'data-qr-version': version ? String(version) : undefined },
    h('label', { for: id }, `Your ${label}`),
    field,
    h('div', { class: 'row' }, copy, status),
    size,
    version ? qr : undefined,
  );
}

export interface CodeInput {
  el: HTMLElement;
  /** Shows a problem (or clears it with ''), focusing the field again. */
  problem(message: string): void;
  /** While a code is being applied. */
  busy(on: boolean): void;
}

/**
 * A field for the other side's code with a submit button and a "Scan QR code" button.
 * `submit` gets the text (pasted or scanned); a rejection's message is shown in the box.
 */
export function enterCode(options: { label: string; action: string; submit(text: string): Promise<void> }): CodeInput {
  const id = `enter-${options.label.replace(/\W+/g, '-').toLowerCase()}`;
  const field = h('textarea', { id, name: 'code', rows: '4', class: 'code', spellcheck: 'false', autocomplete: 'off', placeholder: `${MANUAL_PREFIX}…`, 'aria-describedby': `${id}-problem` });
  const submit = h('button', { type: 'submit', class: 'primary' }, options.action);
  const scan = h('button', { type: 'button', class: 'secondary', 'data-action': 'scan', onclick: () => startScan() }, 'Scan QR code');
  const problem = h('p', { class: 'form-error', id: `${id}-problem`, role: 'alert' });
  const scanArea = h('div', { class: 'scan-area' });
  const form = h('form', { class: 'code-input' }, h('label', { for: id }, `Paste the ${options.label}`), field, h('div', { class: 'row' }, submit, scan), problem, scanArea);
  let scanner: Scanner | undefined;

  const show = (message: string): void => {
    problem.textContent = message;
    if (message) field.focus();
  };

  async function use(text: string): Promise<void> {
    show('');
    try {
      await options.submit(text);
    } catch (err) {
      show(err instanceof Error ? err.message : String(err));
    }
  }

  function startScan(): void {
    scanner?.stop();
    show('');
    scanner = scanQr({
      accept: (text) => text.startsWith(MANUAL_PREFIX),
      wrongCode: `That QR code is not a Pinhole code. Scan the ${options.label} on the other person\u2019s screen.`,
      found: (text) => {
        scanner = undefined;
        field.value = text;
        void use(text);
      },
      failed: (message) => {
        scanner = undefined;
        show(message);
      },
    });
    scanArea.replaceChildren(scanner.el);
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    scanner?.stop();
    void use(field.value);
  });

  return {
    el: form,
    problem: show,
    busy(on) {
      submit.disabled = on;
      scan.disabled = on;
      form.setAttribute('aria-busy', String(on));
    },
  };
}
