/**
 * The "no server" page's codes: the SDK's manual strings (docs/protocol/rendezvous.md §14.3, "PH1…"),
 * called the *invitation* (the offer) and the *answer* on the page. Reading one checks it
 * before anything is applied and says what is wrong in plain words; nothing here touches
 * the DOM, so it is tested without a browser.
 */
import { decodeManual, MANUAL_PREFIX, SignalingError, type ManualDescription } from '@pinhole/client';

export type CodeKind = 'invitation' | 'answer';

/**
 * How long an invitation may wait for its answer. The addresses in it (a NAT's STUN
 * mapping especially) go stale when nothing flows through them, and the offering page
 * holds a half-open connection meanwhile.
 */
export const INVITATION_TTL_MS = 10 * 60_000;

/** A code that cannot be used, in words for the person holding it. */
export class CodeProblem extends Error {
  override readonly name = 'CodeProblem';
  constructor(
    readonly reason: 'empty' | 'not-a-code' | 'damaged' | 'wrong-kind' | 'used' | 'expired' | 'bad-stun',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const SDP_TYPE: Record<CodeKind, ManualDescription['type']> = { invitation: 'offer', answer: 'answer' };

/** What the other page shows, so the person knows where to look. */
const WHERE: Record<CodeKind, string> = {
  invitation: 'the invitation the other person\u2019s page shows after they click \u201cCreate invitation\u201d',
  answer: 'the answer the other person\u2019s page shows after they open your invitation',
};

/**
 * Checks that `text` is a usable code of kind `expected` and returns what it describes.
 * Throws a CodeProblem whose message can be shown as it is.
 */
export async function readCode(text: string, expected: CodeKind): Promise<ManualDescription> {
  const compact = text.replace(/\s+/g, '');
  if (!compact) throw new CodeProblem('empty', `Paste ${WHERE[expected]}, or scan its QR code.`);
  if (!compact.startsWith(MANUAL_PREFIX)) {
    throw new CodeProblem('not-a-code', `This is not a Pinhole code: codes start with \u201c${MANUAL_PREFIX}\u201d. Copy ${WHERE[expected]}, all of it.`);
  }
  let description: ManualDescription;
  try {
    description = await decodeManual(compact);
  } catch (err) {
    if (!(err instanceof SignalingError)) throw err;
    throw new CodeProblem('damaged', 'This code is incomplete or was changed on the way (cut off, or a typo). Copy the whole code again, or scan its QR code.', { cause: err });
  }
  if (description.type !== SDP_TYPE[expected]) {
    throw new CodeProblem(
      'wrong-kind',
      expected === 'answer'
        ? `This is an invitation, not an answer. Paste ${WHERE.answer}.`
        : `This is an answer, not an invitation. Paste ${WHERE.invitation}; answers go back to the person who invited you.`,
    );
  }
  return description;
}

/** The invitation was already answered: one invitation connects one person. */
export function usedProblem(): CodeProblem {
  return new CodeProblem('used', 'This invitation was already answered: one invitation connects one person. Create a new invitation to connect someone else.');
}

export function expiredProblem(): CodeProblem {
  return new CodeProblem('expired', `This invitation expired (invitations last ${INVITATION_TTL_MS / 60_000} minutes, because the network addresses in them go stale). Create a new one and send it again.`);
}

/** Whether a description carries camera or microphone sections (else: chat and files only). */
export function hasMedia(description: ManualDescription): boolean {
  return /^m=(audio|video) /m.test(description.sdp);
}

/**
 * The optional STUN server field: empty means host candidates only. Only `stun:` and
 * `stuns:` URLs (RFC 7064): a TURN server would need credentials this page has no way to get.
 */
export function parseStunServer(input: string): RTCIceServer | undefined {
  const url = input.trim();
  if (!url) return undefined;
  if (!/^stuns?:(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/.test(url)) {
    throw new CodeProblem('bad-stun', `\u201c${url}\u201d is not a STUN server address. Write it as stun:host or stun:host:port (for example stun:stun.l.google.com:19302), or leave the field empty.`);
  }
  return { urls: url };
}
