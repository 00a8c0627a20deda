/**
 * The app's entry: the landing page at / (or /r/<room> from a join link, with the room
 * filled in), then the call at /r/<room>. Diagnostic switches (?transport=, ?relay=) stay
 * in the URL from one to the other. /direct is the "no server" page (direct.ts); /watch/<room>
 * plays the room without joining it (watch.ts).
 */
import './style.css';
import { startCall } from './call.js';
import { showDirect } from './direct.js';
import { h, replaceChildren } from './dom.js';
import { showLanding } from './landing.js';
import { roomFromPath, watchedRoomFromPath } from './rooms.js';
import { readSwitches, switchesQuery } from './switches.js';
import { showWatch } from './watch.js';

const app = document.getElementById('app')!;

async function main(): Promise<void> {
  // The "no server" page: no hub session at all.
  if (location.pathname === '/direct') return showDirect(app);
  // Watching: no hub session, no camera or microphone.
  const watched = watchedRoomFromPath(location.pathname);
  if (watched !== undefined) return showWatch(app, watched);
  const switches = readSwitches(location.search);
  const request = await showLanding(app, { room: roomFromPath(location.pathname), switches });
  const path = `/r/${encodeURIComponent(request.room)}${switchesQuery(location.search)}`;
  if (location.pathname + location.search !== path) history.pushState(null, '', path);
  await startCall(app, {
    ...request,
    switches,
    onLeft: () =>
      replaceChildren(
        app,
        h(
          'div',
          { class: 'left' },
          h('h1', {}, 'You left the call.'),
          h('div', { class: 'row' }, h('a', { class: 'button primary', href: path }, `Rejoin ${request.room}`), h('a', { class: 'button secondary', href: '/' }, 'Start page')),
        ),
      ),
  });
}

// Back from the call to the landing page (or forward again) starts over from the URL.
window.addEventListener('popstate', () => location.reload());
void main();
