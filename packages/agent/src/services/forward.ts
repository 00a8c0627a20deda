/**
 * The `forward` service, agent side: every RTCDataChannel labelled `pinhole-forward:<id>`
 * is one TCP connection to an exposed target. The first message names the target; the
 * agent connects (dialling out from its own host, like any local client) and bridges.
 */
import { connect } from 'node:net';
import { DEFAULT_STREAM_OPEN_TIMEOUT_MS, REFUSE_GRACE_MS } from '../defaults.js';
import { AgentError } from '../errors.js';
import type { AgentLogger } from '../logger.js';
import { StreamBridge, type ResolvedStreamOptions } from '../stream.js';
import { encodeStreamControl, parseStreamControl } from '../stream-wire.js';

/** A local TCP port the agent exposes under a name. */
export interface ExposedTarget {
  name: string;
  host: string;
  port: number;
}

export class ForwardService {
  readonly #targets: Map<string, ExposedTarget>;
  readonly #streams = new Set<StreamBridge>();

  constructor(
    targets: readonly ExposedTarget[],
    readonly options: ResolvedStreamOptions,
    readonly logger: AgentLogger,
  ) {
    this.#targets = new Map(targets.map((t) => [t.name, t]));
  }

  get targets(): string[] {
    return [...this.#targets.keys()];
  }

  /** Takes over a forward-stream channel the peer opened. */
  accept(dc: RTCDataChannel, context: { peer: string }): void {
    const log = { ...context, stream: dc.label };
    dc.binaryType = 'arraybuffer';
    const refuse = (error: AgentError) => {
      this.logger.warn({ ...log, code: error.code, err: error.message }, 'forward stream refused');
      try {
        dc.send(encodeStreamControl({ t: 'reset', code: error.code, message: error.message }));
      } catch {
        // the channel is already going
      }
      // The client closes on the reset; closing at once could reset the SCTP stream before it arrives.
      setTimeout(() => dc.close(), REFUSE_GRACE_MS).unref();
    };
    const timer = setTimeout(() => refuse(new AgentError('timeout', `no open within ${DEFAULT_STREAM_OPEN_TIMEOUT_MS} ms`)), DEFAULT_STREAM_OPEN_TIMEOUT_MS);
    timer.unref();
    const onFirst = (event: Event) => {
      dc.removeEventListener('message', onFirst);
      clearTimeout(timer);
      const data = (event as MessageEvent).data;
      let target: ExposedTarget | undefined;
      try {
        if (typeof data !== 'string') throw new AgentError('bad-message', 'the first message of a stream must be open');
        const msg = parseStreamControl(data);
        if (msg.t !== 'open') throw new AgentError('bad-message', `the first message of a stream must be open, not ${msg.t}`);
        target = this.#targets.get(msg.target);
        if (!target) throw new AgentError('unknown-target', `no exposed target ${JSON.stringify(msg.target)} (exposed: ${this.targets.join(', ') || 'none'})`);
      } catch (err) {
        return refuse(err as AgentError);
      }
      const socket = connect({ host: target.host, port: target.port, allowHalfOpen: true });
      socket.setNoDelay(true); // interactive protocols (ssh) over the tunnel
      const bridge = new StreamBridge(dc, socket, this.options, { announce: true });
      this.#streams.add(bridge);
      this.logger.debug({ ...log, target: target.name }, 'forward stream open');
      void bridge.done.then((r) => {
        this.#streams.delete(bridge);
        const fields = { ...log, target: target.name, bytesOut: r.bytesOut, bytesIn: r.bytesIn };
        if (r.ok) this.logger.debug(fields, 'forward stream ended');
        else this.logger.info({ ...fields, code: r.error?.code, err: r.error?.message }, 'forward stream reset');
      });
    };
    dc.addEventListener('message', onFirst);
  }

  /** Resets every open stream (agent shutting down). */
  close(): void {
    for (const s of this.#streams) s.reset('agent closing');
  }
}
