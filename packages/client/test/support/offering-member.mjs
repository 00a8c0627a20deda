/**
 * A room member in its own process (so a test can block its own event loop while this one
 * goes on), built from the packages' dist: over a hub it starts itself (`{ carrier: 'hub' }`)
 * or a broker (`{ carrier: 'redis' | 'mqtt', url, peerId }`). It joins `room` with
 * node-datachannel connections, prints `{ hub, peer }` as one JSON line, and creates the
 * file `marker` once it has sent an offer. Stops on SIGTERM or when stdin closes.
 *
 *   node offering-member.mjs '{"carrier":"hub","room":"r","marker":"/tmp/x"}'
 */
import { writeFileSync } from 'node:fs';
import { pino } from 'pino';
import { startHub } from '@pinhole/server';
import { HubSignaler, NodeRTCPeerConnection, Room, connectMqtt, connectRedis, nodePlatform } from '@pinhole/node';

const config = JSON.parse(process.argv[2] ?? '{}');
const hub = config.carrier === 'hub' ? await startHub({ host: '127.0.0.1', port: 0, logger: pino({ level: 'silent' }) }) : undefined;
const signaler = hub
  ? await new HubSignaler(hub.url, { platform: nodePlatform(), reconnect: false }).open()
  : await { redis: connectRedis, mqtt: connectMqtt }[config.carrier](config.url, { peerId: config.peerId });

const signal = signaler.signal.bind(signaler);
signaler.signal = (to, data, room) => {
  signal(to, data, room);
  if (data?.description?.type === 'offer') writeFileSync(config.marker, to);
};
const room = await Room.join(signaler, config.room, { name: 'member' }, { RTCPeerConnection: NodeRTCPeerConnection, configuration: () => ({ iceServers: [] }) });
process.stdout.write(`${JSON.stringify({ hub: hub?.url, peer: signaler.localId })}\n`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await room.leave().catch(() => undefined);
  await signaler.close().catch(() => undefined);
  await hub?.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.stdin.on('end', stop);
process.stdin.resume();
