/**
 * The WebSocket rung on `/v1/ws`: JSON text messages, each one frame or an array of them.
 * Frames written in one task leave as one message, and the hello asks the hub to do the
 * same (`batch`), so a burst costs one WebSocket message each way instead of one per frame.
 */
import type { ClientFrame, ServerFrame, WelcomeFrame } from '@pinhole/protocol';
import { LinkError, joinUrl, type Link, type OpenLink } from './link.js';

export const openWsLink: OpenLink = (ctx, hello) =>
  new Promise((resolve, reject) => {
    const url = joinUrl(ctx.base, '/v1/ws').replace(/^http/, 'ws');
    let ws: ReturnType<typeof ctx.platform.openWebSocket>;
    try {
      ws = ctx.platform.openWebSocket(url);
    } catch (err) {
      reject(new LinkError(`WebSocket ${url}: ${(err as Error).message}`, 'network'));
      return;
    }
    let welcomed = false;
    let closed = false;
    let queue: ClientFrame[] = [];
    const flush = (): void => {
      const frames = queue;
      queue = [];
      if (ws.readyState === 1 && frames.length > 0) ws.send(JSON.stringify(frames.length === 1 ? frames[0] : frames));
    };
    const write = (frame: ClientFrame): void => {
      if (queue.push(frame) === 1) queueMicrotask(flush);
    };
    const link: Link = {
      transport: 'ws',
      send: (frames) => frames.forEach(write),
      ack: (seq) => write({ type: 'ack', seq }),
      ping: () => write({ type: 'ping' }),
      close: () => {
        closed = true;
        clearTimeout(timer);
        ws.onclose = ws.onerror = ws.onmessage = null;
        try {
          ws.close(1000);
        } catch {
          // already closed
        }
      },
    };
    const fail = (error: LinkError): void => {
      if (closed) return;
      link.close();
      if (welcomed) ctx.closed(link, error);
      else reject(error);
    };
    // A proxy that accepts the upgrade and then stalls shows up here: no welcome in time.
    const timer = setTimeout(() => fail(new LinkError(`no welcome on WebSocket within ${ctx.openTimeoutMs} ms`, 'timeout')), ctx.openTimeoutMs);
    ws.onopen = () => ws.send(JSON.stringify({ ...hello, batch: true }));
    ws.onmessage = (ev) => {
      let message: ServerFrame | ServerFrame[];
      try {
        message = JSON.parse(String(ev.data)) as ServerFrame | ServerFrame[];
      } catch {
        return fail(new LinkError('hub sent a message that is not JSON', 'bad-json'));
      }
      if (welcomed) {
        ctx.alive(link);
        for (const frame of Array.isArray(message) ? message : [message]) {
          if (closed) return;
          ctx.frame(frame, link);
        }
        return;
      }
      const frame = message as ServerFrame; // before the welcome, the hub sends single frames
      if (frame.type === 'welcome') {
        welcomed = true;
        clearTimeout(timer);
        resolve({ link, welcome: frame as WelcomeFrame });
      } else if (frame.type === 'error') {
        fail(new LinkError(`hello refused: ${frame.code}: ${frame.message}`, frame.code));
      }
    };
    ws.onerror = () => fail(new LinkError(`WebSocket ${url} failed`, 'network'));
    ws.onclose = (ev) => {
      const code = ev.code === 4409 ? 'replaced' : ev.code === 4429 ? 'overflow' : ev.code === 1000 ? 'closed' : 'network';
      fail(new LinkError(`WebSocket closed (${ev.code}${ev.reason ? ` ${ev.reason}` : ''})`, code));
    };
  });
