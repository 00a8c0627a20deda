import { describe, expect, it } from 'vitest';
import { parseTarget } from '../src/http.js';

/** What the router got before the fast path: the full WHATWG parse. */
function whatwg(raw: string): { path: string; query: [string, string][] } {
  const url = new URL(raw, 'http://hub');
  return { path: url.pathname, query: [...url.searchParams] };
}

describe('parseTarget', () => {
  it.each([
    ['hot route with a query', '/v1/send?session=abc_-1&key=K-ey_2'],
    ['hot route without a query', '/v1/poll'],
    ['empty query', '/v1/sse?'],
    ['ack and lastSeq', '/v1/poll?session=s&key=k&ack=42&lastSeq=7'],
    ['escapes in the query', '/v1/send?session=a%2Bb&key=x%20y+z'],
    ['raw space and quote in the query', '/v1/send?key=x y"z'],
    ['non-ASCII in the query', '/v1/send?key=\u00e9t\u00e9'],
    ['repeated and bare parameters', '/v1/poll?ack=1&ack=2&flag'],
    ['fragment', '/v1/poll?ack=1#frag'],
    ['fragment without a query', '/v1/poll#frag'],
    ['dot segment', '/v1/./send?session=s'],
    ['parent segment', '/v1/x/../send?session=s'],
    ['percent-encoded path', '/v1/rooms/a%20b/peers'],
    ['trailing slash', '/v1/send/'],
    ['double slash', '//v1/send'],
    ['backslash', '/v1\\send'],
    ['root', '/'],
    ['absolute form', 'http://example.com/v1/send?session=s'],
  ])('%s: same path and query as the WHATWG parser', (_name, raw) => {
    const target = parseTarget(raw);
    expect({ path: target.path, query: [...target.query] }).toEqual(whatwg(raw));
  });

  it.each([
    ['/v1/rooms/%2e%2e/peers', '/v1/rooms/%2e%2e/peers'],
    ['/v1/rooms/.%2E/messages?x=1', '/v1/rooms/.%2E/messages'],
    ['/v1/rooms/../peers', '/v1/rooms/../peers'],
    ['/v1/poll#frag', '/v1/poll'],
    ['/v1/send?session=s', '/v1/send'],
  ])('rawPath is the path as sent, dot segments unresolved: %s', (raw, rawPath) => {
    expect(parseTarget(raw).rawPath).toBe(rawPath);
  });

  it('treats a missing target as "/"', () => {
    expect(parseTarget(undefined).path).toBe('/');
  });
});
