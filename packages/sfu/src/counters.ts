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
}
