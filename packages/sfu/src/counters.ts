/**
 * What one SFU has moved since it started, for /metrics (pinhole_sfu_*): one object per Sfu,
 * shared by its rooms and added to in the forwarding path (a few integer additions per packet).
 */
export class SfuCounters {
  receivedPackets = 0;
  receivedBytes = 0;
  forwardedPackets = 0;
  forwardedBytes = 0;
  /** PLIs asked of publishers (a subscriber's layer switch or lost picture). */
  keyframeRequests = 0;
  /** PLIs and FIRs received from subscribers and viewers (each asks the publisher for a keyframe, or starts a layer's). */
  keyframeRequestsReceived = 0;
  /** Generic NACK feedback (RFC 4585 §6.2.1) received from subscribers and viewers, about forwarded tracks. */
  nacks = 0;
  /** Packets those NACKs asked for again. */
  nackedPackets = 0;
  /** Packets resent for them from the engine's history (the rest were too old, or never sent). */
  retransmittedPackets = 0;
}
