/**
 * `pinhole offer` / `pinhole answer`: two peers connect with no server at all, by handing
 * each other one string (or its QR code) each way (docs/protocol/rendezvous.md §14.3). The offering
 * side prints its offer and reads the answer from stdin; the answering side takes the
 * offer (argument or first stdin line) and prints its answer. Once connected, both run a
 * line chat over a data channel: stdin lines go to the peer, the peer's lines come out on
 * stdout, and each side ends when its stdin has ended and the peer's has too.
 *
 * stdout carries only the string and the chat, so it can be piped; the QR code and
 * progress go to stderr.
 */
import { createInterface } from 'node:readline';
import { resolveOptions } from '../config.js';
import { CliError, runtimeError, usageError } from '../errors.js';
import { renderCommandHelp, type CommandHelp } from '../help.js';
import type { CliIO } from '../io.js';
import { duration, flag, list, serveOptions } from '../options.js';

/** How long the peer connection may take to come up once both strings are exchanged. */
export const DEFAULT_CONNECT_WAIT_MS = 30_000;
/** The data channel the chat runs on (docs/protocol/rendezvous.md §14.3). */
export const CHAT_CHANNEL = 'chat';

const manualOptions = {
  config: serveOptions.config,
  dataDir: serveOptions.dataDir,
  iceServer: list({ help: 'a STUN/TURN URL for the peer connection (repeatable), e.g. stun:stun.example.org:3478; default none (host candidates only)', value: 'URL', file: false }),
  wait: duration({ help: 'how long the connection may take once the strings are exchanged; default 30s', file: false }),
  noQr: flag({ help: 'do not print the QR code', file: false, flag: 'no-qr' }),
};

export const offerHelp: CommandHelp = {
  name: 'offer',
  summary: 'connect to a peer with no server: print an offer string + QR, read the answer, chat over a data channel',
  usage: 'pinhole offer [--ice-server URL] [--no-qr]    then paste the answer on stdin',
  description: 'Give the printed string (or QR code) to the other side\'s `pinhole answer`, then paste its answer here.',
  table: manualOptions,
};

export const answerHelp: CommandHelp = {
  name: 'answer',
  summary: 'answer a `pinhole offer`: print the answer string + QR, then chat over a data channel',
  usage: 'pinhole answer [OFFER] [--ice-server URL] [--no-qr]    (without OFFER: the first stdin line)',
  description: 'Give the printed answer back to the offering side.',
  table: manualOptions,
};

type Role = 'offer' | 'answer';

export const offerCommand = (argv: readonly string[], io: CliIO): Promise<number> => manualCommand('offer', argv, io);
export const answerCommand = (argv: readonly string[], io: CliIO): Promise<number> => manualCommand('answer', argv, io);

async function manualCommand(role: Role, argv: readonly string[], io: CliIO): Promise<number> {
  // `pinhole answer PH1c…`: the one positional argument the option parser does not know.
  const positional = role === 'answer' && argv[0] !== undefined && !argv[0].startsWith('-') ? argv[0] : undefined;
  const { values, help } = resolveOptions(manualOptions, positional === undefined ? argv : argv.slice(1), io.env, role);
  if (help) {
    io.stdout.write(renderCommandHelp(role === 'offer' ? offerHelp : answerHelp));
    return 0;
  }
  const { ManualSignaler, Room, NodeRTCPeerConnection, SignalingError } = await import('@pinhole/node');
  const QRCode = (await import('qrcode')).default;
  const lines = createInterface({ input: io.stdin ?? process.stdin, crlfDelay: Infinity })[Symbol.asyncIterator]();
  const nextLine = async (): Promise<string | undefined> => {
    for (;;) {
      const { value, done } = await lines.next();
      if (done) return undefined;
      if (value.trim() !== '') return value.trim();
    }
  };
  const signaler = new ManualSignaler({ role });
  const other = role === 'offer' ? 'answer' : 'offer';
  const apply = async (text: string | undefined): Promise<void> => {
    if (text === undefined) throw usageError(`stdin ended before the ${other} string arrived`);
    try {
      await signaler.remote(text);
    } catch (err) {
      if (err instanceof SignalingError) throw new CliError('bad-value', `the ${other} string is not usable: ${err.message}`, { cause: err });
      throw err;
    }
  };
  const iceServers = values.iceServer.map((urls) => ({ urls }));
  let room: InstanceType<typeof Room> | undefined;
  const aborted = new Promise<0>((resolve) => {
    if (io.signal?.aborted) resolve(0);
    io.signal?.addEventListener('abort', () => resolve(0), { once: true });
  });
  /** Waits for `work` unless aborted first (then 0, the exit code of a stop on request). */
  const unlessAborted = <T>(work: Promise<T>): Promise<T | 0> => {
    void work.catch(() => undefined); // after an abort its own failure is moot
    return Promise.race([work, aborted]);
  };
  try {
    if (role === 'answer') await apply(positional ?? (io.stderr.write('Paste the offer:\n'), await nextLine()));
    room = await Room.join(signaler, CHAT_CHANNEL, {}, { RTCPeerConnection: NodeRTCPeerConnection, configuration: () => ({ iceServers }) });
    const mine = await unlessAborted(signaler.local());
    if (mine === 0) return 0;
    io.stdout.write(`${mine}\n`);
    if (!values.noQr) io.stderr.write(await QRCode.toString(mine, { type: 'utf8', errorCorrectionLevel: 'L' }));
    io.stderr.write(`${mine.length} characters. ${role === 'offer' ? 'Run `pinhole answer <this string>` on the other side, then paste its answer here:' : 'Give this answer to the offering side.'}\n`);
    if (role === 'offer') {
      const answer = await unlessAborted(nextLine());
      if (answer === 0) return 0;
      await apply(answer);
    }

    const peer = room.peers.get(signaler.remoteId)!;
    // The offering side opens the chat channel (a plain RTCDataChannel), the answering side takes it.
    const connection = peer.connection!;
    let remote: ReturnType<typeof receive> | undefined;
    const opened = new Promise<RTCDataChannel>((resolve) =>
      connection.on('datachannel', (dc) => {
        if (dc.label !== CHAT_CHANNEL) return;
        remote = receive(dc, io); // at once: the peer's first lines follow this event
        resolve(dc);
      }),
    );
    const waitMs = values.wait ?? DEFAULT_CONNECT_WAIT_MS;
    const deadline = Date.now() + waitMs;
    while (connection.connectionState !== 'connected') {
      if (io.signal?.aborted) return 0;
      if (Date.now() > deadline) throw runtimeError(`the peer connection did not come up within ${waitMs} ms (are both sides reachable? try --ice-server stun:…)`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const channel = role === 'offer' ? connection.createDataChannel(CHAT_CHANNEL) : await unlessAborted(withDeadline(opened, deadline, `the offering side did not open the chat channel within ${waitMs} ms`));
    if (channel === 0) return 0;
    const chat = (remote ??= receive(channel, io));
    if (channel.readyState !== 'open') {
      const open = await unlessAborted(withDeadline(new Promise((resolve) => channel.addEventListener('open', () => resolve(1), { once: true })), deadline, `the chat channel did not open within ${waitMs} ms`));
      if (open === 0) return 0;
    }
    const report = await peer.report();
    io.stderr.write(`connected: ${report.candidateType.local ?? '?'} ↔ ${report.candidateType.remote ?? '?'} over ${report.protocol ?? '?'}; type lines to chat, end with Ctrl-D\n`);
    const sending = (async () => {
      for (let line = await nextLine(); line !== undefined; line = await nextLine()) channel.send(`t${line}`);
      channel.send(EOF);
      await chat.acked; // closing before the peer has our last lines would lose them
    })();
    if ((await unlessAborted(Promise.all([sending, chat.ended]))) === 0) return 0;
    await drained(channel); // our own last `a`
    return 0;
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw runtimeError(`${role}: ${err instanceof Error ? err.message : String(err)}`, err);
  } finally {
    await room?.leave();
    await signaler.close();
  }
}

/** The line chat (docs/protocol/rendezvous.md §14.3): `t` + a line of text; `e` = this side's input ended. */
const EOF = 'e';
/** Answers `e`: everything the peer sent before it arrived. */
const ACK = 'a';

function withDeadline<T>(work: Promise<T>, deadline: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(runtimeError(message)), Math.max(0, deadline - Date.now()))));
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

/**
 * The chat's receiving half: prints the peer's lines, answers its `e` with `a`.
 * `ended` resolves when the peer's input ended; `acked` when the peer confirmed our `e`
 * (so every line we sent arrived) or the channel closed after the peer saw our `e`.
 */
function receive(channel: RTCDataChannel, io: CliIO): { ended: Promise<void>; acked: Promise<void> } {
  let ended!: () => void;
  let acked!: () => void;
  const result = { ended: new Promise<void>((r) => (ended = r)), acked: new Promise<void>((r) => (acked = r)) };
  channel.addEventListener('message', (event: MessageEvent) => {
    const text = typeof event.data === 'string' ? event.data : '';
    if (text === EOF) {
      channel.send(ACK);
      ended();
    } else if (text === ACK) acked();
    else if (text.startsWith('t')) io.stdout.write(`${text.slice(1)}\n`);
  });
  channel.addEventListener('close', () => acked());
  return result;
}

/** Resolves once the channel has handed everything queued to the transport (or `ms` passed). */
async function drained(channel: RTCDataChannel, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (channel.readyState === 'open' && channel.bufferedAmount > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  await new Promise((r) => setTimeout(r, 50)); // and a moment for the last packet to leave
}
