export * from './engine.js';
export { DataChannelEngine, DataChannelSubscriber, type DataChannelOptions } from './engines/datachannel.js';
export { WeriftEngine, WeriftPublisher, WeriftSubscriber, type WeriftOptions } from './engines/werift.js';
export { isH264KeyframeStart, isKeyframeStart, isVp8KeyframeStart, rtpPayload } from './keyframe.js';
export { RtpRewriter, isRtp, seqNewer, type RewriteTarget } from './rewriter.js';
export { Room, type SubscribeOptions } from './room.js';
export { describeOffer, type OfferedTrack } from './sdp.js';
export { Sfu, defaultEngine, type SfuOptions } from './sfu.js';
export { KEYFRAME_RETRY_MS, LAYERS, LayerForwarder } from './simulcast.js';
