/** The `echo` service: every message comes back on the same channel, of the same kind. */
import type { NamedChannel } from '@pinhole/node';
import { MAX_ECHO_BUFFERED_BYTES } from '../defaults.js';
import type { AgentLogger } from '../logger.js';

export function serveEcho(channel: NamedChannel, logger: AgentLogger, context: object): void {
  channel.on('message', (m) => {
    if (channel.state === 'closed') return;
    // A peer that sends and never reads would make us buffer without bound.
    if (channel.bufferedAmount > MAX_ECHO_BUFFERED_BYTES) {
      logger.warn({ ...context, buffered: channel.bufferedAmount }, 'echo channel overloaded: closed');
      channel.close();
      return;
    }
    channel.send(m.data as never, m.kind);
  });
}
