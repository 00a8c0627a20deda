/**
 * The data layer for Node: everything in ./index.ts, with file sources and sinks on disk,
 * and a `FileTransfers` that hashes with node:crypto (10× faster than the portable one).
 */
import { FileTransfers as PortableFileTransfers } from './files.js';
import type { FileTransferOptions } from './files.js';
import type { ChannelHost } from './host.js';
import { nodeSha256 } from './node-fs.js';

export {
  Channels,
  NamedChannel,
  OutgoingTransfer,
  IncomingTransfer,
  blobSink,
  blobSource,
  nobleSha256,
  DataError,
} from './index.js';
export type {
  ChannelsEvents,
  ChannelEvents,
  ChannelOptions,
  ChannelState,
  ChannelMessage,
  MessageKind,
  Sendable,
  FileTransferOptions,
  FileTransfersEvents,
  SendInfo,
  TransferCancelled,
  TransferEvents,
  TransferResult,
  TransferState,
  TransferProgress,
  BlobSinkOptions,
  FileSink,
  FileSource,
  Sha256,
  Sha256Factory,
  DataErrorCode,
  ChannelHost,
} from './index.js';
export { nodeFileSink, nodeFileSource, nodeSha256 } from './node-fs.js';
export type { NodeFileSinkOptions } from './node-fs.js';

export class FileTransfers extends PortableFileTransfers {
  constructor(host: ChannelHost, options: FileTransferOptions = {}) {
    super(host, { sha256: nodeSha256, ...options });
  }
}
