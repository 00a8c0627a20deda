import { describe, expect, it } from 'vitest';
import {
  ErrorCode,
  MessageClass,
  Method,
  PasswordAlgorithm,
  StunMessage,
  longTermKey,
  turnCredentials,
  verifyIntegrity,
} from '../src/index.js';
import { userHash } from '../src/stun/integrity.js';
import { CoreClient, SECRET, errorCode, makeCore, responses, tuple } from './helpers/core-harness.js';

describe('long-term credentials (RFC 8489 §9.2) in the core', () => {
  it('answers an unauthenticated Allocate with 401, REALM, NONCE and PASSWORD-ALGORITHMS, unsigned, and allocates nothing', () => {
    const h = makeCore();
    const client = CoreClient.rest(h);
    const [response] = responses(client.send(client.build(Method.Allocate, [['REQUESTED-TRANSPORT', 17]])));
    expect(response?.cls).toBe(MessageClass.ErrorResponse);
    expect(response?.get('ERROR-CODE')).toEqual({ code: 401, reason: 'Unauthenticated' });
    expect(response?.get('REALM')).toBe('pinhole');
    expect(response?.get('NONCE')).toMatch(/^obMatJos2gAAA[0-9a-f]{32}$/);
    expect(response?.get('PASSWORD-ALGORITHMS')?.map((a) => a.algorithm)).toEqual([PasswordAlgorithm.SHA256, PasswordAlgorithm.MD5]);
    expect(response?.has('MESSAGE-INTEGRITY')).toBe(false);
    expect(h.core.stats()).toMatchObject({ allocations: 0, authFailures: 0 });
  });

  it('accepts REST API credentials and signs the success response with the same key', () => {
    const h = makeCore();
    const client = CoreClient.rest(h);
    const { actions, relayed } = client.allocate();
    expect(relayed).toMatchObject({ address: '198.51.100.1' });
    const [response] = responses(actions);
    expect(response?.get('LIFETIME')).toBe(600);
    expect(response?.get('XOR-MAPPED-ADDRESS')).toEqual({ family: 4, address: client.client.clientAddress, port: client.client.clientPort });
    expect(response?.has('FINGERPRINT')).toBe(true);
    expect(verifyIntegrity(response!, client.key!)).toEqual({ ok: true, algorithm: 'sha1' });
    expect(h.core.stats()).toMatchObject({ allocations: 1, allocationsCreated: 1 });
  });

  it('accepts a static user, also via USERHASH (RFC 8489 §14.4)', () => {
    const h = makeCore();
    const byName = new CoreClient(h, tuple(), 'static', 'static-pass');
    expect(byName.allocate().relayed).toBeDefined();
    const byHash = new CoreClient(h, tuple(), 'static', 'static-pass');
    byHash.challenge();
    const m = new StunMessage(Method.Allocate, MessageClass.Request)
      .add('REQUESTED-TRANSPORT', 17)
      .add('USERHASH', userHash('static', byHash.realm))
      .add('REALM', byHash.realm)
      .add('NONCE', byHash.nonce);
    expect(responses(byHash.send(m))[0]?.get('XOR-RELAYED-ADDRESS')).toBeDefined();
  });

  it('supports PASSWORD-ALGORITHM SHA-256 with MESSAGE-INTEGRITY-SHA256, and answers with SHA-256 integrity', () => {
    const h = makeCore();
    const client = CoreClient.rest(h);
    client.challenge();
    client.key = longTermKey(client.username, client.realm, client.password, PasswordAlgorithm.SHA256);
    client.integrity = 'sha256';
    const actions = client.request(Method.Allocate, [['REQUESTED-TRANSPORT', 17]], (m) => {
      m.add('PASSWORD-ALGORITHMS', [
        { algorithm: PasswordAlgorithm.SHA256, parameters: Buffer.alloc(0) },
        { algorithm: PasswordAlgorithm.MD5, parameters: Buffer.alloc(0) },
      ]);
      m.add('PASSWORD-ALGORITHM', { algorithm: PasswordAlgorithm.SHA256, parameters: Buffer.alloc(0) });
    });
    const [response] = responses(actions);
    expect(response?.get('XOR-RELAYED-ADDRESS')).toBeDefined();
    expect(verifyIntegrity(response!, client.key)).toEqual({ ok: true, algorithm: 'sha256' });
  });

  it.each([
    ['PASSWORD-ALGORITHM without PASSWORD-ALGORITHMS', true, false, [PasswordAlgorithm.SHA256, PasswordAlgorithm.MD5]],
    ['PASSWORD-ALGORITHMS without PASSWORD-ALGORITHM', false, true, [PasswordAlgorithm.SHA256, PasswordAlgorithm.MD5]],
    ['a PASSWORD-ALGORITHMS list that differs from ours (downgrade attempt)', true, true, [PasswordAlgorithm.MD5]],
  ])('400 for %s', (_name, withChosen, withList, list) => {
    const h = makeCore();
    const client = CoreClient.rest(h);
    const actions = client.request(Method.Allocate, [['REQUESTED-TRANSPORT', 17]], (m) => {
      if (withList) m.add('PASSWORD-ALGORITHMS', list.map((algorithm) => ({ algorithm, parameters: Buffer.alloc(0) })));
      if (withChosen) m.add('PASSWORD-ALGORITHM', { algorithm: PasswordAlgorithm.MD5, parameters: Buffer.alloc(0) });
    });
    expect(errorCode(actions)).toBe(ErrorCode.BadRequest);
    expect(h.core.stats().allocations).toBe(0);
  });

  it('401 and an auth failure for a wrong password; nothing allocated', () => {
    const h = makeCore();
    const client = CoreClient.rest(h);
    client.challenge();
    client.key = longTermKey(client.username, client.realm, 'wrong');
    const actions = client.request(Method.Allocate, [['REQUESTED-TRANSPORT', 17]]);
    expect(errorCode(actions)).toBe(ErrorCode.Unauthenticated);
    expect(responses(actions)[0]?.get('NONCE')).toBeDefined();
    expect(h.core.stats()).toMatchObject({ allocations: 0, authFailures: 1 });
  });

  it('401 for an expired REST username (its password is still the right HMAC)', () => {
    const h = makeCore();
    const old = turnCredentials(SECRET, 'alice', 60, h.now() - 120_000);
    const client = new CoreClient(h, tuple(), old.username, old.credential);
    expect(errorCode(client.allocate().actions)).toBe(ErrorCode.Unauthenticated);
    expect(h.core.stats()).toMatchObject({ allocations: 0, authFailures: 1 });
  });

  it('400 when MESSAGE-INTEGRITY comes without USERNAME/REALM/NONCE', () => {
    const h = makeCore();
    const m = new StunMessage(Method.Allocate, MessageClass.Request).add('REQUESTED-TRANSPORT', 17);
    const actions = h.core.handleClientPacket(tuple(), m.encode({ integrity: { key: Buffer.from('k'), algorithm: 'sha1' } }));
    expect(errorCode(actions)).toBe(ErrorCode.BadRequest);
  });

  it('438 Stale Nonce with a fresh NONCE once the nonce lifetime has passed; the new nonce works', () => {
    const h = makeCore({ nonceLifetimeSeconds: 600 });
    const client = CoreClient.rest(h);
    client.retryStaleNonce = false;
    client.challenge();
    h.advance(601_000);
    const actions = client.request(Method.Allocate, [['REQUESTED-TRANSPORT', 17]]);
    const [response] = responses(actions);
    expect(response?.get('ERROR-CODE')?.code).toBe(ErrorCode.StaleNonce);
    const fresh = response?.get('NONCE');
    expect(fresh).toBeDefined();
    expect(fresh).not.toBe(client.nonce);
    expect(response?.get('REALM')).toBe('pinhole');
    expect(h.core.stats().allocations).toBe(0);
    client.nonce = fresh ?? '';
    expect(client.allocate().relayed).toBeDefined();
  });

  it.each([
    ['a nonce issued to another client IP', (n: string) => n, '203.0.113.99'],
    ['a tampered nonce', (n: string) => n.slice(0, -1) + (n.endsWith('0') ? '1' : '0'), undefined],
    ['a nonce we never issued', () => 'f//499k954d6OL34oL9FSTvy64sA', undefined],
  ])('438 for %s', (_name, mangle, otherIp) => {
    const h = makeCore();
    const client = CoreClient.rest(h, 'alice', tuple('udp', otherIp ?? '203.0.113.5'));
    client.retryStaleNonce = false;
    const issuer = CoreClient.rest(h, 'alice', tuple('udp', '203.0.113.5'));
    issuer.challenge();
    client.realm = issuer.realm;
    client.nonce = mangle(issuer.nonce);
    client.key = longTermKey(client.username, client.realm, client.password);
    expect(errorCode(client.allocate().actions)).toBe(ErrorCode.StaleNonce);
  });

  it('441 when another user sends requests on an existing allocation', () => {
    const h = makeCore();
    const alice = CoreClient.rest(h, 'alice');
    alice.allocate();
    const bob = CoreClient.rest(h, 'bob', alice.client);
    expect(errorCode(bob.request(Method.Refresh, [['LIFETIME', 600]]))).toBe(ErrorCode.WrongCredentials);
  });
});
