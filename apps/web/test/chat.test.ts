/**
 * Chat delivery without a browser: links are plain objects that can drop what they carry,
 * as a dying data channel does. Nothing may be lost or shown twice.
 */
import { describe, expect, it } from 'vitest';
import { Chat, MAX_CHAT_TEXT, MAX_PENDING_PER_CLIENT, type ChatWire } from '../src/chat.js';

/** Two chats wired to each other; `drop` makes a direction lose everything it carries. */
function pair() {
  const a = new Chat('client-a', 'Ann', () => 1000);
  const b = new Chat('client-b', 'Ben', () => 2000);
  const drop = { ab: false, ba: false };
  const sent: ChatWire[] = [];
  const linkAB = { send: (w: ChatWire) => (sent.push(w), drop.ab || b.receive('client-a', w)) };
  const linkBA = { send: (w: ChatWire) => drop.ba || a.receive('client-b', w) };
  return { a, b, drop, sent, connect: () => [a.attach('client-b', linkAB), b.attach('client-a', linkBA)] };
}

const texts = (chat: Chat) => chat.messages.map((m) => `${m.name}: ${m.text}`);

describe('Chat', () => {
  it('delivers both ways, acknowledges, and keeps nothing pending afterwards', () => {
    const { a, b, connect } = pair();
    connect();
    a.send('hello');
    b.send('hi');
    expect(texts(a)).toEqual(['Ann: hello', 'Ben: hi']);
    expect(texts(b)).toEqual(['Ann: hello', 'Ben: hi']);
    expect(a.pendingFor('client-b')).toBe(0);
    expect(b.pendingFor('client-a')).toBe(0);
    expect(a.messages[0]).toMatchObject({ id: 'client-a:1', from: 'client-a', at: 1000 });
  });

  it('keeps what a dead link lost and sends it again when the client is back; the receiver shows it once', () => {
    const { a, b, drop, connect } = pair();
    const [detachA] = connect();
    drop.ab = true;
    a.send('lost in flight');
    expect(texts(b)).toEqual([]);
    expect(a.pendingFor('client-b')).toBe(1);
    // The peer reconnects under a new peer id; its client id is the same.
    detachA!();
    a.send('while away');
    drop.ab = false;
    a.attach('client-b', { send: (w) => b.receive('client-a', w) });
    expect(texts(b)).toEqual(['Ann: lost in flight', 'Ann: while away']);
    expect(a.pendingFor('client-b')).toBe(0);
    // A resend after everything arrived (channel reopened) duplicates nothing.
    a.resend('client-b');
    expect(texts(b)).toEqual(['Ann: lost in flight', 'Ann: while away']);
  });

  it('a lost acknowledgement means a resend, which the receiver acknowledges without showing it again', () => {
    const { a, b, drop, connect } = pair();
    connect();
    drop.ba = true; // acks from b never arrive
    a.send('once');
    expect(a.pendingFor('client-b')).toBe(1);
    drop.ba = false;
    a.resend('client-b');
    expect(texts(b)).toEqual(['Ann: once']);
    expect(a.pendingFor('client-b')).toBe(0);
  });

  it('keeps messages for a known client with no link yet; forget() drops them', () => {
    const a = new Chat('client-a', 'Ann');
    a.know('client-c');
    a.send('for later');
    expect(a.pendingFor('client-c')).toBe(1);
    a.forget('client-c');
    expect(a.pendingFor('client-c')).toBe(0);
    expect(a.recipients).toEqual([]);
  });

  it('bounds what it keeps per client', () => {
    const a = new Chat('client-a', 'Ann');
    a.know('client-c');
    for (let i = 0; i <= MAX_PENDING_PER_CLIENT; i++) a.send(`m${i}`);
    expect(a.pendingFor('client-c')).toBe(MAX_PENDING_PER_CLIENT);
  });

  it('ignores empty messages and cuts long ones', () => {
    const a = new Chat('client-a', 'Ann');
    expect(a.send('   ')).toBeUndefined();
    expect(a.send('x'.repeat(MAX_CHAT_TEXT + 10))!.text).toHaveLength(MAX_CHAT_TEXT);
  });

  it.each([
    ['null', null],
    ['a string', 'hello'],
    ['an unknown type', { t: 'poke' }],
    ['an ack without id', { t: 'ack' }],
    ['a message without text', { t: 'msg', m: { id: 'x:1', from: 'x', name: 'X', at: 1 } }],
    ['a message with a numeric id', { t: 'msg', m: { id: 1, from: 'x', name: 'X', text: 'hi', at: 1 } }],
  ])('drops malformed input (%s) without showing anything', (_name, data) => {
    const a = new Chat('client-a', 'Ann');
    expect(a.receive('client-x', data)).toBe(false);
    expect(a.messages).toEqual([]);
  });
});
