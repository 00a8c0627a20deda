/**
 * Keeps the first negotiation of a mesh connection free of offer collisions: the polite
 * side (perfect negotiation: the smaller peer id) does not make the first offer, it answers
 * the impolite side's. Why: when both sides offer at once, Chromium (156) sometimes leaves
 * the polite side's transport, after its offer is rolled back, gathering forever with no
 * candidates; the connection then sits in 'new' on both sides and in-place ICE restarts
 * do not revive it, only a rebuild does (seen in about a third of 3-person calls in the
 * E2E runs; none in the same runs with this class).
 *
 * Skipping the polite side's first 'negotiationneeded' loses nothing: when the answer
 * brings the connection back to 'stable', the browser fires 'negotiationneeded' again if
 * something still needs negotiating (webrtc-pc §4.7.3). If no offer comes within
 * POLITE_WAIT_MS, the polite side offers after all.
 *
 * The app marks each connection's side with `markPolite` right after the SDK builds it
 * (before the browser's queued 'negotiationneeded' task runs).
 */
const POLITE_WAIT_MS = 3000;

interface PoliteAware {
  pinholePolite?: boolean;
}

export function markPolite(pc: RTCPeerConnection, polite: boolean): void {
  (pc as RTCPeerConnection & PoliteAware).pinholePolite = polite;
}

/** An RTCPeerConnection class whose polite instances let the other side offer first. */
export function politeWaitingPeerConnection(Base: typeof RTCPeerConnection): typeof RTCPeerConnection {
  return class PoliteWaitingPeerConnection extends Base {
    #waiting: ReturnType<typeof setTimeout> | undefined;

    override addEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | AddEventListenerOptions): void {
      if (!listener) return;
      if (type !== 'negotiationneeded') return super.addEventListener(type, listener, options);
      const call = (event: Event): void => (typeof listener === 'function' ? listener.call(this, event) : listener.handleEvent(event));
      super.addEventListener(
        type,
        (event: Event) => {
          if (!this.#firstOfPolite()) return call(event);
          if (this.#waiting) return;
          this.#waiting = setTimeout(() => {
            this.#waiting = undefined;
            if (!this.remoteDescription && this.signalingState === 'stable' && this.connectionState !== 'closed') call(event);
          }, POLITE_WAIT_MS);
        },
        options,
      );
    }

    override close(): void {
      clearTimeout(this.#waiting);
      super.close();
    }

    #firstOfPolite(): boolean {
      return (this as PoliteAware).pinholePolite === true && !this.remoteDescription && this.signalingState === 'stable';
    }
  };
}
