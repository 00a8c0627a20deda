import { describe, expect, it } from 'vitest';
import { ERROR_CODES, ProtocolError, decodeClientFrame, httpStatusOf, isRoomName } from '../src/index.js';

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
