import { describe, expect, it } from 'vitest';
import { ERROR_CODES, MAX_FRAME_DEPTH, ProtocolError, checkFrameDepth, decodeClientFrame, httpStatusOf, isRoomName } from '../src/index.js';

const MAX = 1024;
const decode = (text: string) => decodeClientFrame(text, MAX);
const codeOf = (text: string): string => {
  try {
    decode(text);
  } catch (err) {
    expect(err).toBeInstanceOf(ProtocolError);
    return (err as ProtocolError).code;
  }
  return 'ok';
};

describe('decodeClientFrame', () => {
  it.each([
    { name: 'hello', text: '{"type":"hello"}' },
    { name: 'hello with token and resume', text: '{"type":"hello","token":"t","resume":{"session":"s","key":"k","lastSeq":3}}' },
    { name: 'join with meta', text: '{"type":"join","id":1,"room":"a-b_c.d~e","meta":{"name":"Ada"}}' },
    { name: 'leave', text: '{"type":"leave","room":"r"}' },
    { name: 'signal', text: '{"type":"signal","to":"p","data":{"sdp":"v=0"}}' },
    { name: 'signal with null data', text: '{"type":"signal","to":"p","data":null}' },
    { name: 'broadcast with ack', text: '{"type":"broadcast","room":"r","data":[1],"ack":7}' },
    { name: 'ack', text: '{"type":"ack","seq":0}' },
    { name: 'ping with string id', text: '{"type":"ping","id":"abc"}' },
    { name: 'bye', text: '{"type":"bye"}' },
  ])('accepts $name', ({ text }) => {
    expect(decode(text)).toEqual(JSON.parse(text));
  });

  it.each([
    { name: 'empty', text: '', code: 'bad-json' },
    { name: 'truncated', text: '{"type":', code: 'bad-json' },
    { name: 'number', text: '42', code: 'bad-frame' },
    { name: 'null', text: 'null', code: 'bad-frame' },
    { name: 'array', text: '[]', code: 'bad-frame' },
    { name: 'type not a string', text: '{"type":1}', code: 'bad-frame' },
    { name: 'unknown type', text: '{"type":"welcome"}', code: 'unknown-type' },
    { name: 'float id', text: '{"type":"ping","id":1.5}', code: 'bad-frame' },
    { name: 'negative id', text: '{"type":"ping","id":-1}', code: 'bad-frame' },
    { name: 'id 0 (numbering starts at 1)', text: '{"type":"ping","id":0}', code: 'bad-frame' },
    { name: 'room of dots only', text: '{"type":"join","room":".."}', code: 'bad-frame' },
    { name: 'empty string id', text: '{"type":"ping","id":""}', code: 'bad-frame' },
    { name: 'id too long', text: `{"type":"ping","id":"${'x'.repeat(65)}"}`, code: 'bad-frame' },
    { name: 'ack not integer', text: '{"type":"ping","ack":"3"}', code: 'bad-frame' },
    { name: 'token not string', text: '{"type":"hello","token":5}', code: 'bad-frame' },
    { name: 'resume without key', text: '{"type":"hello","resume":{"session":"s","lastSeq":0}}', code: 'bad-frame' },
    { name: 'resume lastSeq negative', text: '{"type":"hello","resume":{"session":"s","key":"k","lastSeq":-2}}', code: 'bad-frame' },
    { name: 'join without room', text: '{"type":"join"}', code: 'bad-frame' },
    { name: 'join room with slash', text: '{"type":"join","room":"a/b"}', code: 'bad-frame' },
    { name: 'join room too long', text: `{"type":"join","room":"${'r'.repeat(129)}"}`, code: 'bad-frame' },
    { name: 'join meta string', text: '{"type":"join","room":"r","meta":"x"}', code: 'bad-frame' },
    { name: 'signal to empty', text: '{"type":"signal","to":"","data":1}', code: 'bad-frame' },
    { name: 'signal bad room', text: '{"type":"signal","to":"p","room":"","data":1}', code: 'bad-frame' },
    { name: 'broadcast without data', text: '{"type":"broadcast","room":"r"}', code: 'bad-frame' },
    { name: 'ack without seq', text: '{"type":"ack"}', code: 'bad-frame' },
    { name: 'too large', text: `{"type":"broadcast","room":"r","data":"${'x'.repeat(MAX)}"}`, code: 'too-large' },
  ])('refuses $name with $code', ({ text, code }) => {
    expect(codeOf(text)).toBe(code);
  });

  it('measures size in UTF-8 bytes, not characters', () => {
    const text = `{"type":"broadcast","room":"r","data":"${'é'.repeat(MAX / 2)}"}`;
    expect(text.length).toBeLessThan(MAX + 64);
    expect(codeOf(text)).toBe('too-large');
  });

  it('an oversize frame still reports its id as ref', () => {
    try {
      decode(`{"type":"broadcast","id":12,"room":"r","data":"${'x'.repeat(MAX)}"}`);
      expect.unreachable();
    } catch (err) {
      expect(err).toMatchObject({ code: 'too-large', ref: 12 });
    }
  });

  it('keeps the id of a frame it refuses, as ref', () => {
    try {
      decode('{"type":"signal","id":9,"data":1}');
      expect.unreachable();
    } catch (err) {
      expect(err).toMatchObject({ code: 'bad-frame', ref: 9, frame: 'signal' });
    }
  });
});

it('room names', () => {
  expect(isRoomName('daily-standup_2026.11~x')).toBe(true);
  expect(isRoomName('a.b')).toBe(true);
  for (const bad of ['', '.', '..', 'a b', 'a/b', 'é', 'x'.repeat(129), 5]) expect(isRoomName(bad)).toBe(false);
});

it('every error code maps to an HTTP status', () => {
  for (const code of ERROR_CODES) expect(httpStatusOf(code)).toBeGreaterThanOrEqual(400);
});

describe('nesting depth (MAX_FRAME_DEPTH)', () => {
  /** `levels` nested arrays around `leaf`, as text (no recursion on the test side either). */
  const nested = (levels: number, open = '[', close = ']', leaf = '0'): string => open.repeat(levels) + leaf + close.repeat(levels);
  const refusal = (text: string): ProtocolError => {
    try {
      decodeClientFrame(text, 1 << 20);
    } catch (err) {
      return err as ProtocolError;
    }
    throw new Error('accepted');
  };

  it.each([
    { name: 'arrays in data', under: (n: number) => `{"type":"signal","id":3,"to":"p","data":${nested(n)}}` },
    { name: 'objects in data', under: (n: number) => `{"type":"signal","id":3,"to":"p","data":${nested(n, '{"k":', '}')}}` },
    { name: 'objects and arrays in meta', under: (n: number) => `{"type":"join","id":3,"room":"r","meta":${nested(n, '{"k":[', ']}').replace(/\[0\]/, '0')}}` },
    { name: 'an unknown top-level field', under: (n: number) => `{"type":"ping","id":3,"x":${nested(n)}}` },
  ])('$name: accepted at the limit, refused one level over with bad-frame carrying ref and frame', ({ under }) => {
    // Find how many inner levels put the frame exactly at the limit, whatever the shape.
    let n = 0;
    while (depthOf(JSON.parse(under(n + 1))) <= MAX_FRAME_DEPTH) n++;
    expect(depthOf(JSON.parse(under(n)))).toBe(MAX_FRAME_DEPTH);
    expect(() => decodeClientFrame(under(n), 1 << 20)).not.toThrow();
    const err = refusal(under(n + 1));
    expect(err.code).toBe('bad-frame');
    expect(err.ref).toBe(3);
    expect(err.frame).toBe(JSON.parse(under(0)).type);
    expect(err.message).toContain(String(MAX_FRAME_DEPTH));
  });

  it('refuses a 10 KB frame nested 5,000 deep without exhausting the stack', () => {
    const text = `{"type":"broadcast","id":"s-1","room":"r","data":${nested(5000)}}`;
    expect(text.length).toBeGreaterThan(10_000);
    expect(refusal(text)).toMatchObject({ code: 'bad-frame', ref: 's-1', frame: 'broadcast' });
  });

  it('the depth check runs before any other validation', () => {
    expect(refusal(`{"type":"teleport","id":1,"x":${nested(100)}}`).code).toBe('bad-frame');
    expect(checkFrameDepth(JSON.parse(nested(MAX_FRAME_DEPTH)))).toBeUndefined();
    expect(() => checkFrameDepth(JSON.parse(nested(MAX_FRAME_DEPTH + 1)))).toThrow(ProtocolError);
  });
});

/** Reference depth: the value itself is level 1 (plain recursion, fine at these sizes). */
function depthOf(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  return 1 + Math.max(0, ...Object.values(value).map(depthOf));
}
