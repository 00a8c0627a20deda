/**
 * Runs inside Chromium (bundled by ./chromium.ts), driven through `window.peer`:
 * - `serve(hub, room, name)`: joins `room` and answers every member on the `echo` channel
 *   with the agent's own echo service code (a browser stand-in for the agent, see
 *   netns-tcp-only.test.ts for why);
 * - `check(hub, room, name)`: joins, sends one message on the `echo` channel of the member
 *   called `name`, and returns the reply with the connectivity report of that connection.
 */
import { connect, type RemotePeer, type Session } from '@pinhole/client';
import { silentLogger } from '../../src/logger.js';
import { serveEcho } from '../../src/services/echo.js';

let session: Session | undefined;

async function serve(hub: string, roomName: string, name: string): Promise<string> {
  session = await connect(hub);
  const room = await session.join(roomName, { name });
  const hook = (peer: RemotePeer) => peer.channels?.on('channel', (ch) => ch.name === 'echo' && serveEcho(ch, silentLogger, { peer: peer.id }));
  room.on('peer-joined', hook);
  for (const peer of room.peers.values()) hook(peer);
  return session.transport;
}

async function check(hub: string, roomName: string, name: string): Promise<unknown> {
  const own = await connect(hub);
  try {
    const room = await own.join(roomName, { name: 'chromium-client' });
    const target = [...room.peers.values()].find((p) => p.meta.name === name) ?? (await room.next('peer-joined', 20_000));
    const echo = target.channel('echo');
    const reply = echo.next('message', 40_000);
    echo.send({ from: 'chromium-client' });
    try {
      const message = await reply;
      return { echo: message.data, report: await target.report(), transport: own.transport };
    } catch (err) {
      // What ICE gathered and tried, for the failure message.
      const stats: unknown[] = [];
      (await target.connection!.pc.getStats()).forEach((s: { type: string }) => s.type.includes('candidate') && stats.push(s));
      throw new Error(`${(err as Error).message}; state ${target.connection?.connectionState}; ${JSON.stringify(stats)}`, { cause: err });
    }
  } finally {
    await own.close();
  }
}

(globalThis as { peer?: unknown }).peer = { serve, check, close: () => session?.close() };
