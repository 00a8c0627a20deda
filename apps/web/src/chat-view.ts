/** The chat panel: the message list and the compose box. */
import { h } from './dom.js';
import type { Chat, ChatMessage } from './chat.js';

export function chatPanel(chat: Chat): { el: HTMLElement; onUnread(listener: () => void): void } {
  const list = h('ol', { class: 'messages', 'aria-live': 'polite', 'aria-label': 'Chat messages' });
  const input = h('input', { type: 'text', name: 'message', autocomplete: 'off', placeholder: 'Message everyone', 'aria-label': 'Message', maxlength: '4000' });
  const form = h('form', { class: 'compose' }, input, h('button', { type: 'submit' }, 'Send'));
  const unread = new Set<() => void>();
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (chat.send(input.value)) input.value = '';
    input.focus();
  });

  const render = (m: ChatMessage): void => {
    const mine = m.from === chat.clientId;
    const time = new Date(m.at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
    list.append(
      h(
        'li',
        { class: mine ? 'mine' : undefined, 'data-id': m.id },
        h('span', { class: 'who' }, mine ? 'You' : m.name),
        h('time', { datetime: new Date(m.at).toISOString() }, time),
        h('p', { class: 'text' }, m.text),
      ),
    );
    list.scrollTop = list.scrollHeight;
    if (!mine) for (const listener of unread) listener();
  };
  for (const m of chat.messages) render(m);
  chat.onMessage(render);

  const el = h('section', { class: 'chat', 'aria-label': 'Chat' }, list, form);
  return { el, onUnread: (listener) => unread.add(listener) };
}
