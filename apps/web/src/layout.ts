/**
 * The call screen's frame: header (room, signaling transport), banners, the grid area,
 * a tabbed side panel (People, Chat, Files, Invite) and the control bar. Only layout and
 * generic widgets; call.ts fills it.
 */
import { h } from './dom.js';

export interface Banners {
  el: HTMLElement;
  /** Shows (or updates) the banner `id`; `actions` are buttons in it. */
  show(id: string, kind: 'info' | 'warn' | 'error', text: string, ...actions: HTMLElement[]): void;
  hide(id: string): void;
}

export function banners(): Banners {
  const el = h('div', { class: 'banners' });
  const shown = new Map<string, HTMLElement>();
  return {
    el,
    show(id, kind, text, ...actions) {
      let banner = shown.get(id);
      if (!banner) {
        banner = h('div', { class: 'banner', 'data-banner': id, role: kind === 'error' ? 'alert' : 'status' });
        shown.set(id, banner);
        el.append(banner);
      }
      banner.dataset['kind'] = kind;
      banner.replaceChildren(h('span', {}, text), ...actions);
    },
    hide(id) {
      shown.get(id)?.remove();
      shown.delete(id);
    },
  };
}

export interface Tabs {
  el: HTMLElement;
  select(id: string): void;
  /** Marks a tab as having news (cleared when selected). */
  notify(id: string): void;
}

/** An ARIA tab list: arrow keys move between tabs, Enter/Space or click selects. */
export function tabs(panels: { id: string; label: string; panel: HTMLElement }[]): Tabs {
  const buttons = new Map<string, HTMLButtonElement>();
  const list = h('div', { class: 'tablist', role: 'tablist', 'aria-label': 'Call panels' });
  const body = h('div', { class: 'tabpanels' });
  let selected = panels[0]?.id ?? '';
  for (const { id, label, panel } of panels) {
    const button = h('button', { type: 'button', role: 'tab', id: `tab-${id}`, 'aria-controls': `panel-${id}`, 'data-tab': id, onclick: () => select(id) }, label);
    button.addEventListener('keydown', (event) => {
      const index = panels.findIndex((p) => p.id === id);
      const step = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0;
      if (step === 0) return;
      event.preventDefault();
      const next = panels[(index + step + panels.length) % panels.length]!;
      select(next.id);
      buttons.get(next.id)?.focus();
    });
    buttons.set(id, button);
    list.append(button);
    panel.id = `panel-${id}`;
    panel.setAttribute('role', 'tabpanel');
    panel.setAttribute('aria-labelledby', `tab-${id}`);
    body.append(panel);
  }
  function select(id: string): void {
    selected = id;
    for (const { id: other, panel } of panels) {
      const on = other === id;
      panel.hidden = !on;
      const button = buttons.get(other)!;
      button.setAttribute('aria-selected', String(on));
      button.tabIndex = on ? 0 : -1;
      if (on) button.classList.remove('news');
    }
  }
  select(selected);
  return {
    el: h('aside', { class: 'side' }, list, body),
    select,
    notify(id) {
      if (id !== selected) buttons.get(id)?.classList.add('news');
    },
  };
}

/**
 * A toggle of the control bar. Its label names the action it will take ("Mute" while the
 * mic is on), so it carries no aria-pressed (ARIA: change the label or the state, not both).
 */
export function toggle(action: string, labels: { on: string; off: string }, onClick: () => void): { el: HTMLButtonElement; set(on: boolean): void } {
  const el = h('button', { type: 'button', class: 'control', 'data-action': action, onclick: onClick });
  const set = (on: boolean): void => {
    el.dataset['on'] = String(on);
    el.textContent = on ? labels.on : labels.off;
  };
  return { el, set };
}
