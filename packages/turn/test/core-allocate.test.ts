import { describe, expect, it } from 'vitest';
import { ErrorCode, MessageClass, Method, StunMessage, type TurnAction } from '../src/index.js';
import { type Attr, CoreClient, errorCode, makeCore, responses, tuple } from './helpers/core-harness.js';

describe('Allocate (RFC 8656 §7.2) in the core', () => {
  const refusals: { name: string; attrs: Attr[]; code: number; unknown?: number[] }[] = [
    { name: 'REQUESTED-TRANSPORT missing → 400', attrs: [], code: ErrorCode.BadRequest },
    { name: 'REQUESTED-TRANSPORT TCP → 442', attrs: [['REQUESTED-TRANSPORT', 6]], code: ErrorCode.UnsupportedTransportProtocol },
    { name: 'DONT-FRAGMENT → 420 listing it', attrs: [['REQUESTED-TRANSPORT', 17], ['DONT-FRAGMENT', true]], code: ErrorCode.UnknownAttribute, unknown: [0x001a] },
    { name: 'REQUESTED-ADDRESS-FAMILY IPv6 on an IPv4 relay → 440', attrs: [['REQUESTED-TRANSPORT', 17], ['REQUESTED-ADDRESS-FAMILY', 6]], code: ErrorCode.AddressFamilyNotSupported },
    { name: 'RESERVATION-TOKEN with EVEN-PORT → 400', attrs: [['REQUESTED-TRANSPORT', 17], ['RESERVATION-TOKEN', Buffer.alloc(8)], ['EVEN-PORT', { reserve: false }]], code: ErrorCode.BadRequest },
    { name: 'RESERVATION-TOKEN with REQUESTED-ADDRESS-FAMILY → 400', attrs: [['REQUESTED-TRANSPORT', 17], ['RESERVATION-TOKEN', Buffer.alloc(8)], ['REQUESTED-ADDRESS-FAMILY', 4]], code: ErrorCode.BadRequest },
    { name: 'unknown RESERVATION-TOKEN → 508', attrs: [['REQUESTED-TRANSPORT', 17], ['RESERVATION-TOKEN', Buffer.alloc(8, 9)]], code: ErrorCode.InsufficientCapacity },
  ];

  it.each(refusals)('$name, signed, no allocation', ({ attrs, code, unknown }) => {
    const h = makeCore();
    const client = CoreClient.rest(h);
    const actions = client.request(Method.Allocate, attrs);
    const [response] = responses(actions);
    expect(response?.get('ERROR-CODE')?.code).toBe(code);
    if (unknown) expect(response?.get('UNKNOWN-ATTRIBUTES')).toEqual(unknown);
    expect(response?.has('MESSAGE-INTEGRITY')).toBe(true);
    expect(actions.some((a) => a.type === 'open-relay')).toBe(false);
    expect(h.core.stats().allocations).toBe(0);
  });

  it('a retransmitted Allocate gets the identical response; a new one on the same 5-tuple gets 437', () => {
    const h = makeCore();
    const client = CoreClient.rest(h);
    client.challenge();
    const request = client.encode(client.build(Method.Allocate, [['REQUESTED-TRANSPORT', 17]]));
    const first = client.raw(request);
    const again = client.raw(request);
    expect(again).toEqual(first.filter((a) => a.type === 'send-to-client'));
    expect(errorCode(client.request(Method.Allocate, [['REQUESTED-TRANSPORT', 17]]))).toBe(ErrorCode.AllocationMismatch);
    expect(h.core.stats().allocations).toBe(1);
  });

  it.each([
    ['no LIFETIME → default 600', undefined, 600],
    ['LIFETIME 60 → raised to the default 600', 60, 600],
    ['LIFETIME 1800 → 1800', 1800, 1800],
    ['LIFETIME 86400 → capped at 3600', 86400, 3600],
  ])('lifetime: %s', (_name, requested, granted) => {
    const h = makeCore();
    const client = CoreClient.rest(h);
    const { actions } = client.allocate(requested === undefined ? [] : [['LIFETIME', requested]]);
    expect(responses(actions)[0]?.get('LIFETIME')).toBe(granted);
  });

  it('486 beyond maxAllocationsPerUser, counted per identity; other identities still allocate', () => {
    const h = makeCore({ maxAllocationsPerUser: 2 });
    expect(CoreClient.rest(h, 'alice').allocate().relayed).toBeDefined();
    expect(CoreClient.rest(h, 'alice').allocate().relayed).toBeDefined();
    expect(errorCode(CoreClient.rest(h, 'alice').allocate().actions)).toBe(ErrorCode.AllocationQuotaReached);
    expect(CoreClient.rest(h, 'bob').allocate().relayed).toBeDefined();
    expect(h.core.stats()).toMatchObject({ allocations: 3, quotaRejections: 1 });
  });

  it('486 beyond maxAllocations in total', () => {
    const h = makeCore({ maxAllocations: 1 });
    expect(CoreClient.rest(h, 'alice').allocate().relayed).toBeDefined();
    expect(errorCode(CoreClient.rest(h, 'bob').allocate().actions)).toBe(ErrorCode.AllocationQuotaReached);
  });

  it('508 and no allocation when the relay socket cannot be opened', () => {
    const h = makeCore();
    const client = CoreClient.rest(h);
    client.challenge();
    const actions = h.core.handleClientPacket(client.client, client.encode(client.build(Method.Allocate, [['REQUESTED-TRANSPORT', 17]])));
    const open = actions.find((a): a is Extract<TurnAction, { type: 'open-relay' }> => a.type === 'open-relay');
    expect(open).toBeDefined();
    expect(errorCode(h.core.relayFailed(open!.allocationId))).toBe(ErrorCode.InsufficientCapacity);
    expect(h.core.stats().allocations).toBe(0);
  });

  it('EVEN-PORT with R reserves the next port under a RESERVATION-TOKEN, usable once, released after 30 s', () => {
    const h = makeCore();
    const first = CoreClient.rest(h);
    first.challenge();
    const raw = h.core.handleClientPacket(first.client, first.encode(first.build(Method.Allocate, [['REQUESTED-TRANSPORT', 17], ['EVEN-PORT', { reserve: true }]])));
    expect(raw[0]).toMatchObject({ type: 'open-relay', evenPort: true });
    const token = raw[0]?.type === 'open-relay' ? raw[0].reserveToken : undefined;
    expect(token).toHaveLength(8);
    const [ok] = responses(h.openRelays(raw));
    expect(ok?.get('RESERVATION-TOKEN')).toEqual(token);

    const second = CoreClient.rest(h);
    const use = second.request(Method.Allocate, [['REQUESTED-TRANSPORT', 17], ['RESERVATION-TOKEN', token!]]);
    expect(responses(use)[0]?.get('XOR-RELAYED-ADDRESS')).toBeDefined();
    const third = CoreClient.rest(h);
    expect(errorCode(third.request(Method.Allocate, [['REQUESTED-TRANSPORT', 17], ['RESERVATION-TOKEN', token!]]))).toBe(ErrorCode.InsufficientCapacity);

    const fourth = CoreClient.rest(h);
    fourth.challenge();
    const again = h.openRelays(h.core.handleClientPacket(fourth.client, fourth.encode(fourth.build(Method.Allocate, [['REQUESTED-TRANSPORT', 17], ['EVEN-PORT', { reserve: true }]]))));
    const unused = responses(again)[0]?.get('RESERVATION-TOKEN');
    h.advance(31_000);
    expect(h.core.tick()).toContainEqual({ type: 'release-reservation', token: unused });
  });
});

describe('Refresh (RFC 8656 §7.3) and expiry in the core', () => {
  it('LIFETIME 0 deletes the allocation and closes its relay; a later Refresh gets 437', () => {
    const h = makeCore();
    const client = CoreClient.rest(h);
    client.allocate();
    const actions = client.request(Method.Refresh, [['LIFETIME', 0]]);
    expect(actions.find((a) => a.type === 'close-relay')).toBeDefined();
    expect(responses(actions)[0]?.get('LIFETIME')).toBe(0);
    expect(h.core.stats().allocations).toBe(0);
    expect(errorCode(client.request(Method.Refresh, [['LIFETIME', 600]]))).toBe(ErrorCode.AllocationMismatch);
  });

  it('a Refresh extends the lifetime; without one the allocation expires on the tick', () => {
    const h = makeCore();
    const client = CoreClient.rest(h);
    client.allocate();
    h.advance(500_000);
    expect(responses(client.request(Method.Refresh, [['LIFETIME', 600]]))[0]?.get('LIFETIME')).toBe(600);
    h.advance(500_000);
    expect(h.core.tick()).toEqual([]);
    h.advance(100_001);
    expect(h.core.tick()).toEqual([{ type: 'close-relay', allocationId: expect.any(Number) }]);
    expect(h.core.stats().allocations).toBe(0);
  });

  it('443 for a Refresh asking for another address family', () => {
    const h = makeCore();
    const client = CoreClient.rest(h);
    client.allocate();
    expect(errorCode(client.request(Method.Refresh, [['REQUESTED-ADDRESS-FAMILY', 6]]))).toBe(ErrorCode.PeerAddressFamilyMismatch);
  });

  it('437 for a Refresh without an allocation', () => {
    const h = makeCore();
    expect(errorCode(CoreClient.rest(h).request(Method.Refresh))).toBe(ErrorCode.AllocationMismatch);
  });

  it.each(['tcp', 'tls'] as const)('over %s, deleting the allocation closes the connection after the response', (transport) => {
    const h = makeCore();
    const refreshed = CoreClient.rest(h, 'alice', tuple(transport));
    refreshed.allocate();
    const actions = refreshed.request(Method.Refresh, [['LIFETIME', 0]]);
    expect(actions.map((a) => a.type)).toEqual(['send-to-client', 'close-relay', 'close-client']);
    expect(actions.at(-1)).toEqual({ type: 'close-client', to: refreshed.client });
    const expiring = CoreClient.rest(h, 'bob', tuple(transport));
    expiring.allocate();
    h.advance(601_000);
    expect(h.core.tick()).toEqual([
      { type: 'close-relay', allocationId: expect.any(Number) },
      { type: 'close-client', to: expiring.client },
    ]);
  });

  it('closing a TCP client deletes its allocation', () => {
    const h = makeCore();
    const client = CoreClient.rest(h, 'alice', tuple('tcp'));
    client.allocate();
    expect(h.core.clientClosed(client.client)).toEqual([{ type: 'close-relay', allocationId: expect.any(Number) }]);
    expect(h.core.stats().allocations).toBe(0);
  });
});

describe('STUN request handling in the core', () => {
  it('Binding needs no credentials and returns XOR-MAPPED-ADDRESS and SOFTWARE', () => {
    const h = makeCore();
    const client = tuple('udp', '192.0.2.77');
    const [response] = responses(h.core.handleClientPacket(client, new StunMessage(Method.Binding, MessageClass.Request).encode()));
    expect(response?.cls).toBe(MessageClass.SuccessResponse);
    expect(response?.get('XOR-MAPPED-ADDRESS')).toEqual({ family: 4, address: '192.0.2.77', port: client.clientPort });
    expect(response?.get('SOFTWARE')).toBe('pinhole-turn');
    expect(response?.has('FINGERPRINT')).toBe(false);
  });

  it('420 listing unknown comprehension-required attributes; unknown optional ones are ignored', () => {
    const h = makeCore();
    const request = new StunMessage(Method.Binding, MessageClass.Request).addRaw(0x0003, Buffer.alloc(4)).addRaw(0x7abc, Buffer.alloc(0)).addRaw(0x8abc, Buffer.alloc(4));
    const [response] = responses(h.core.handleClientPacket(tuple(), request.encode({ fingerprint: true })));
    expect(response?.get('ERROR-CODE')?.code).toBe(ErrorCode.UnknownAttribute);
    expect(response?.get('UNKNOWN-ATTRIBUTES')).toEqual([0x0003, 0x7abc]);
    expect(response?.has('FINGERPRINT')).toBe(true);
    const optional = new StunMessage(Method.Binding, MessageClass.Request).addRaw(0x8abc, Buffer.alloc(4));
    expect(errorCode(h.core.handleClientPacket(tuple(), optional.encode()))).toBeUndefined();
  });

  it('400 for a request with an unknown method; responses and unknown indications are ignored', () => {
    const h = makeCore();
    expect(errorCode(h.core.handleClientPacket(tuple(), new StunMessage(0x0abc, MessageClass.Request).encode()))).toBe(ErrorCode.BadRequest);
    expect(h.core.handleClientPacket(tuple(), new StunMessage(Method.Allocate, MessageClass.SuccessResponse).encode())).toEqual([]);
    expect(h.core.handleClientPacket(tuple(), new StunMessage(Method.Binding, MessageClass.Indication).encode())).toEqual([]);
  });

  it('400 for a request whose attribute value is malformed', () => {
    const h = makeCore();
    const client = CoreClient.rest(h);
    const actions = client.request(Method.Allocate, [], (m) => m.addRaw(0x0019, Buffer.from([17])));
    expect(errorCode(actions)).toBe(ErrorCode.BadRequest);
  });
});
