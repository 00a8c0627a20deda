/**
 * A member's subscriber session driven through the Room API with a node-datachannel peer that
 * answers every offer on one connection (@pinhole/test-kit's sessionPeer), as a client does.
 */
import type { IceCandidate, Room, SessionOffer, SessionSignals } from '../../src/index.js';
import { sessionPeer, type SessionPeer } from '@pinhole/test-kit/media-peer';
import { until } from '@pinhole/test-kit/wait';

export interface TestSubscriber {
  peer: SessionPeer;
  signals: SessionSignals;
  /** Every offer the session sent, in order. */
  offers: SessionOffer[];
  /** Every `candidates` signal. */
  candidates: IceCandidate[][];
  /** Times the session reported its transport closed. */
  closed: number;
  /** Errors of automatic answers. */
  errors: unknown[];
  /** Answers applied so far. */
  answered: number;
  /** Resolves with offer number `n` (1-based) once it came. */
  offer(n: number): Promise<SessionOffer>;
  /** Answers offer `n` with the peer and applies the answer (what `auto` does for each). */
  answer(n: number): Promise<void>;
}

/** With `auto` (default) each offer is answered as it comes. */
export function testSubscriber(room: Room, name: string, { auto = true }: { auto?: boolean } = {}): TestSubscriber {
  const peer = sessionPeer();
  let chain = Promise.resolve();
  const s: TestSubscriber = {
    peer,
    offers: [],
    candidates: [],
    closed: 0,
    errors: [],
    answered: 0,
    signals: {
      offer: (offer) => {
        s.offers.push(offer);
        const n = s.offers.length;
        if (auto) chain = chain.then(() => s.answer(n)).catch((err: unknown) => void s.errors.push(err));
      },
      candidates: (candidates) => {
        s.candidates.push(candidates);
        try {
          peer.addCandidates(candidates);
        } catch (err) {
          s.errors.push(err); // a peer the test closed
        }
      },
      closed: () => void s.closed++,
    },
    async offer(n) {
      await until(() => s.offers.length >= n, 15_000, `offer ${n} to ${name}`);
      return s.offers[n - 1]!;
    },
    async answer(n) {
      const offer = await s.offer(n);
      const answer = await peer.answer(offer.sdp);
      await room.acceptAnswer(name, answer);
      s.answered++;
    },
  };
  return s;
}
