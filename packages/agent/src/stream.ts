/**
 * One forward stream: a TCP socket bridged to an RTCDataChannel, the same code on both
 * sides (the agent's socket to the exposed port, the client's accepted socket). See
 * stream-wire.ts for the messages.
 *
 * Flow control runs end to end, in both directions at once:
 * - Sending: bytes read from the socket go out while fewer than `windowBytes` are
 *   unacknowledged and the channel buffers at most `highWaterBytes`; otherwise the socket
 *   is paused (the kernel's receive buffer fills and TCP pushes back on the local writer)
 *   and resumed by the next `ack` or `bufferedamountlow`.
 * - Receiving: bytes are acknowledged only once `socket.write` has handed them to the
 *   kernel, so a slow local reader stops acks, which stops the far side's socket. The
 *   bufferedAmount alone could not do this: it only says the bytes left this machine.
 *
 * Half-close: the socket's 'end' (its peer sent FIN) becomes `fin` after the last byte;
 * a received `fin` becomes `socket.end()` after the last write, and is acknowledged with
 * n + 1. Each direction ends on its own, so `ssh` and `nc -N`-style clients work.
 */
import type { Socket } from 'node:net';
import {
  DEFAULT_STREAM_ACK_BYTES,
  DEFAULT_STREAM_CHUNK_BYTES,
  DEFAULT_STREAM_HIGH_WATER_BYTES,
  DEFAULT_STREAM_LOW_WATER_BYTES,
  DEFAULT_STREAM_WINDOW_BYTES,
} from './defaults.js';
import { AgentError, type AgentErrorCode } from './errors.js';
import { encodeStreamControl, parseStreamControl, type StreamControl } from './stream-wire.js';

export interface ResolvedStreamOptions {
  /** DEFAULT_STREAM_WINDOW_BYTES */
  windowBytes: number;
  /** DEFAULT_STREAM_ACK_BYTES */
  ackBytes: number;
  /** DEFAULT_STREAM_CHUNK_BYTES */
  chunkBytes: number;
  /** DEFAULT_STREAM_HIGH_WATER_BYTES */
  highWaterBytes: number;
  /** DEFAULT_STREAM_LOW_WATER_BYTES */
  lowWaterBytes: number;
}
export type StreamOptions = Partial<ResolvedStreamOptions>;

export function resolveStreamOptions(options: StreamOptions = {}): ResolvedStreamOptions {
  const resolved = {
    windowBytes: options.windowBytes ?? DEFAULT_STREAM_WINDOW_BYTES,
    ackBytes: options.ackBytes ?? DEFAULT_STREAM_ACK_BYTES,
    chunkBytes: options.chunkBytes ?? DEFAULT_STREAM_CHUNK_BYTES,
    highWaterBytes: options.highWaterBytes ?? DEFAULT_STREAM_HIGH_WATER_BYTES,
    lowWaterBytes: options.lowWaterBytes ?? DEFAULT_STREAM_LOW_WATER_BYTES,
  };
  if (resolved.ackBytes > resolved.windowBytes) throw new RangeError('ackBytes must not exceed windowBytes');
  if (resolved.chunkBytes < 1 || resolved.chunkBytes > 256 * 1024) throw new RangeError('chunkBytes must be 1…262144');
  return resolved;
}

export interface StreamResult {
  /** Both directions ended with fin; false when the stream was reset. */
  ok: boolean;
  /** Bytes read from the socket and sent, and bytes received and written to it. */
  bytesOut: number;
  bytesIn: number;
  error?: AgentError;
}

export class StreamBridge {
  readonly done: Promise<StreamResult>;
  readonly #dc: RTCDataChannel;
  readonly #socket: Socket;
  readonly #o: ResolvedStreamOptions;
  #resolve!: (r: StreamResult) => void;
  /** Sent: stream bytes sent; acked: the peer's last ack (bytes it wrote, +1 for our fin). */
  #sent = 0;
  #acked = 0;
  /** Received: stream bytes received; written: of those, handed to the socket (+1 once the fin is applied). */
  #received = 0;
  #written = 0;
  #ackedOut = 0;
  /** Bytes read from the socket that the window or the channel buffer did not let out yet. */
  #pending: Buffer[] = [];
  #socketEnded = false;
  #finSent = false;
  #finReceived = false;
  #finApplied = false;
  #connected: boolean;
  #over = false;

  /**
   * `dc` must be open. With `announce`, the socket is still connecting (agent side): the
   * peer is told `opened` once it connects, and a failure to connect is `connect-failed`.
   */
  constructor(dc: RTCDataChannel, socket: Socket, options: ResolvedStreamOptions, { announce = false } = {}) {
    this.#dc = dc;
    this.#socket = socket;
    this.#o = options;
    this.#connected = !announce;
    this.done = new Promise((resolve) => (this.#resolve = resolve));
    dc.binaryType = 'arraybuffer';
    dc.bufferedAmountLowThreshold = options.lowWaterBytes;
    dc.addEventListener('message', (e) => this.#message((e as MessageEvent).data));
    dc.addEventListener('bufferedamountlow', () => this.#flush());
    dc.addEventListener('close', () => this.#channelClosed());
    socket.on('data', (chunk: Buffer) => {
      this.#pending.push(chunk);
      this.#flush();
    });
    socket.on('end', () => {
      this.#socketEnded = true;
      this.#flush();
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      const code: AgentErrorCode = this.#connected ? 'socket-error' : 'connect-failed';
      this.#fail(new AgentError(code, `${code === 'connect-failed' ? 'cannot connect' : 'socket'}: ${err.code ?? err.message}`, { cause: err }), true);
    });
    socket.on('close', () => {
      // Node closes a socket by itself once both directions ended; closing earlier without
      // an 'error' means it was destroyed under us.
      if (!this.#over && !(this.#socketEnded && this.#finApplied)) this.#fail(new AgentError('socket-error', 'socket closed before the stream ended'), true);
    });
    if (announce) {
      socket.once('connect', () => {
        this.#connected = true;
        this.#control({ t: 'opened' });
        this.#flush();
      });
    } else {
      this.#flush();
    }
  }

  /** Resets the stream (both sockets see a reset); no-op once it is over. */
  reset(reason = 'closed'): void {
    this.#fail(new AgentError('closed', reason), true);
  }

  #window(): number {
    return this.#o.windowBytes - (this.#sent - this.#acked);
  }

  /** Sends what the window and the channel buffer allow, then pauses or resumes the socket. */
  #flush(): void {
    if (this.#over || !this.#connected) return;
    try {
      while (this.#pending.length > 0 && this.#window() > 0 && this.#dc.bufferedAmount <= this.#o.highWaterBytes) {
        const head = this.#pending[0]!;
        const n = Math.min(head.byteLength, this.#o.chunkBytes, this.#window());
        this.#dc.send(head.subarray(0, n) as Uint8Array<ArrayBuffer>);
        this.#sent += n;
        if (n === head.byteLength) this.#pending.shift();
        else this.#pending[0] = head.subarray(n);
      }
      if (this.#pending.length > 0) this.#socket.pause();
      else if (this.#socketEnded && !this.#finSent) {
        this.#finSent = true;
        this.#control({ t: 'fin' });
      } else if (!this.#socketEnded) this.#socket.resume();
    } catch (err) {
      this.#fail(new AgentError('stream-lost', `data channel send failed: ${(err as Error).message}`, { cause: err }), false);
      return;
    }
    this.#maybeClose();
  }

  #message(data: unknown): void {
    if (this.#over) return;
    if (typeof data === 'string') {
      let msg: StreamControl;
      try {
        msg = parseStreamControl(data);
      } catch (err) {
        return this.#fail(err as AgentError, true);
      }
      return this.#onControl(msg);
    }
    const bytes = data instanceof ArrayBuffer ? Buffer.from(data) : ArrayBuffer.isView(data) ? Buffer.from(data.buffer, data.byteOffset, data.byteLength) : undefined;
    if (!bytes) return this.#fail(new AgentError('bad-message', 'frame is neither text nor binary'), true);
    if (!this.#connected || this.#finReceived) return this.#fail(new AgentError('bad-message', `data ${this.#finReceived ? 'after fin' : 'before the stream opened'}`), true);
    this.#received += bytes.byteLength;
    if (this.#received - this.#ackedOut > this.#o.windowBytes) {
      return this.#fail(new AgentError('window-exceeded', `peer sent ${this.#received - this.#ackedOut} unacknowledged bytes, window is ${this.#o.windowBytes}`), true);
    }
    this.#socket.write(bytes, (err) => {
      if (err || this.#over) return; // the socket's error handler resets the stream
      this.#written += bytes.byteLength;
      this.#ack(false);
    });
  }

  #onControl(msg: StreamControl): void {
    switch (msg.t) {
      case 'ack': {
        const max = this.#sent + (this.#finSent ? 1 : 0);
        if (msg.n < this.#acked || msg.n > max) return this.#fail(new AgentError('bad-message', `ack ${msg.n} outside ${this.#acked}…${max}`), true);
        this.#acked = msg.n;
        this.#flush();
        return;
      }
      case 'fin':
        if (this.#finReceived || !this.#connected) return this.#fail(new AgentError('bad-message', 'unexpected fin'), true);
        this.#finReceived = true;
        this.#socket.end(() => {
          if (this.#over) return;
          this.#written += 1;
          this.#finApplied = true;
          this.#ack(true);
          this.#maybeClose();
        });
        return;
      case 'reset':
        return this.#fail(new AgentError('stream-lost', `peer reset the stream: ${msg.code}: ${msg.message}`), false, msg.code);
      default:
        return this.#fail(new AgentError('bad-message', `'${msg.t}' in an open stream`), true);
    }
  }

  #ack(force: boolean): void {
    const n = this.#written;
    if (n <= this.#ackedOut || (!force && n - this.#ackedOut < this.#o.ackBytes)) return;
    if (this.#control({ t: 'ack', n })) this.#ackedOut = n;
  }

  #control(msg: StreamControl): boolean {
    if (this.#dc.readyState !== 'open') return false;
    try {
      this.#dc.send(encodeStreamControl(msg));
      return true;
    } catch {
      return false; // closing under us: the close event follows
    }
  }

  /** Our fin is acknowledged and the peer's fin is applied: nothing more can flow either way. */
  #clean(): boolean {
    return this.#finSent && this.#acked === this.#sent + 1 && this.#finApplied;
  }

  #maybeClose(): void {
    if (this.#over || !this.#clean()) return;
    this.#finish({ ok: true, bytesOut: this.#sent, bytesIn: this.#received });
    this.#dc.close();
    this.#socket.destroy(); // both directions have ended: this only releases the handle
  }

  #channelClosed(): void {
    if (this.#over) return;
    if (this.#clean()) return this.#maybeClose();
    this.#fail(new AgentError('stream-lost', 'the data channel closed before both directions ended'), false);
  }

  /** Ends the stream as failed: tell the peer (unless it told us), close the channel, reset the socket. */
  #fail(error: AgentError, tellPeer: boolean, remoteCode?: string): void {
    if (this.#over) return;
    if (tellPeer) this.#control({ t: 'reset', code: error.code, message: error.message });
    this.#finish({ ok: false, bytesOut: this.#sent, bytesIn: this.#received, error: remoteCode ? withRemoteCode(error, remoteCode) : error });
    this.#pending = [];
    this.#dc.close();
    // RST, not FIN: the local TCP peer must not take a broken stream for a complete one.
    if (!this.#socket.destroyed) {
      try {
        this.#socket.resetAndDestroy();
      } catch {
        this.#socket.destroy();
      }
    }
  }

  #finish(result: StreamResult): void {
    this.#over = true;
    this.#resolve(result);
  }
}

/** A reset the peer sent keeps its own code when it is one of ours (e.g. `connect-failed`). */
function withRemoteCode(error: AgentError, code: string): AgentError {
  const known: readonly string[] = ['unknown-target', 'connect-failed', 'socket-error', 'window-exceeded', 'bad-message', 'closed', 'timeout'];
  return known.includes(code) ? new AgentError(code as AgentErrorCode, error.message, { cause: error }) : error;
}
