import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Attributes, ErrorCode, Method, type TurnServer } from '../src/index.js';
import { recordingLogger } from './helpers/recording-logger.js';
import { creds, startTestServer } from '@pinhole/test-kit/turn-server';
import { TestTurnClient } from '@pinhole/test-kit/turn-client';

const XOR_PEER_ADDRESS = Attributes['XOR-PEER-ADDRESS'].type;
const logger = recordingLogger();
let server: TurnServer;
let client: TestTurnClient;

beforeAll(async () => {
  server = await startTestServer({ logger, tls: undefined });
  client = await TestTurnClient.connect({ transport: 'udp', port: server.ports.udp, ...creds() });
  await client.allocate();
});
afterAll(async () => {
  client.close();
  await server.close();
});

describe('an XOR-PEER-ADDRESS shorter than 4 bytes (issue 13 item 7)', () => {
  it.each([0, 1, 2, 3])('%i bytes: CreatePermission and ChannelBind get 400, logged at debug only', async (length) => {
    const badRequests = () => server.stats().errorResponses[ErrorCode.BadRequest] ?? 0;
    const before = badRequests();
    const short = (m: { addRaw(type: number, value: Buffer): unknown }) => m.addRaw(XOR_PEER_ADDRESS, Buffer.alloc(length, 1));
    const permission = await client.authRequest(Method.CreatePermission, [], short);
    expect(permission.get('ERROR-CODE')?.code).toBe(ErrorCode.BadRequest);
    const bind = await client.authRequest(Method.ChannelBind, [['CHANNEL-NUMBER', 0x4000]], short);
    expect(bind.get('ERROR-CODE')?.code).toBe(ErrorCode.BadRequest);
    expect(badRequests() - before).toBe(2);
    expect(logger.at('error')).toEqual([]);
    expect(logger.at('debug').some((l) => l.msg === 'turn: malformed request attribute')).toBe(true);
  });

  it('the server keeps no trace and still serves the allocation', async () => {
    const stats = server.stats();
    expect(stats.errorResponses[ErrorCode.ServerError]).toBeUndefined();
    expect(stats.permissions).toBe(0);
    const ok = await client.createPermission({ family: 4, address: '127.0.0.1', port: 9 });
    expect(ok.get('ERROR-CODE')).toBeUndefined();
  });
});
