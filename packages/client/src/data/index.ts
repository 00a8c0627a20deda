/**
 * The data layer's public surface for every platform (no Node built-ins). The Node entry
 * adds node-fs.ts through ./node.ts.
 */
export { Channels } from './channels.js';
export type { ChannelsEvents } from './channels.js';
export { NamedChannel } from './channel.js';
export type { ChannelEvents, ChannelOptions, ChannelState } from './channel.js';
export type { ChannelMessage, MessageKind, Sendable } from './framing.js';
export { FileTransfers } from './files.js';
export type { FileTransferOptions, FileTransfersEvents, SendInfo } from './files.js';
export { OutgoingTransfer } from './outgoing.js';
export { IncomingTransfer } from './incoming.js';
export type { TransferCancelled, TransferEvents, TransferResult, TransferState } from './transfer.js';
export type { TransferProgress } from './progress.js';
export { blobSink, blobSource } from './io.js';
export type { BlobSinkOptions, FileSink, FileSource } from './io.js';
export { nobleSha256 } from './sha256.js';
export type { Sha256, Sha256Factory } from './sha256.js';
export { DataError } from './errors.js';
export type { DataErrorCode } from './errors.js';
export type { ChannelHost } from './host.js';
