import { describe, expect, it } from 'vitest';
import { checkMessageText, codePointLength } from '../../src/domain/message.ts';
import { isValidRoomName, normalizeUsername } from '../../src/domain/names.ts';
import { parseClientFrame } from '../../src/protocol.ts';

describe('client frames', () => {
  it('parses message, typing and ping frames', () => {
    expect(parseClientFrame('{"type":"message","text":"hi","client_id":"a"}')).toEqual({
      ok: true,
      frame: { type: 'message', text: 'hi', client_id: 'a' },
    });
    expect(parseClientFrame('{"type":"typing"}')).toEqual({ ok: true, frame: { type: 'typing' } });
    expect(parseClientFrame('{"type":"ping"}')).toEqual({ ok: true, frame: { type: 'ping' } });
  });

  it('takes any text that is not a JSON object as message text, verbatim', () => {
    for (const raw of ['hello', '{broken json', '[1]', 'null', '"s"', '  ']) {
      expect(parseClientFrame(raw)).toEqual({ ok: true, frame: { type: 'message', text: raw } });
    }
  });

  it('refuses unknown types and wrong field types, keeping the client_id when there is one', () => {
    expect(parseClientFrame('{"type":"shout","client_id":"z"}')).toMatchObject({
      ok: false,
      clientId: 'z',
    });
    expect(parseClientFrame('{"type":"message"}')).toMatchObject({ ok: false });
    expect(parseClientFrame('{"type":"message","text":"x","client_id":5}')).toMatchObject({
      ok: false,
    });
    expect(parseClientFrame('{"type":7}')).toMatchObject({ ok: false });
  });
});

describe('message text and usernames', () => {
  it('counts code points, not UTF-16 units', () => {
    expect(codePointLength('😀a')).toBe(2);
    expect(codePointLength('\ud800x')).toBe(2);
    expect(checkMessageText('😀'.repeat(4000), 4000)).toBeUndefined();
    expect(checkMessageText('😀'.repeat(4001), 4000)).toBe('too_long');
    expect(checkMessageText(' \n\t', 4000)).toBe('empty');
  });

  it('trims usernames and refuses empty, long and control-character names', () => {
    expect(normalizeUsername('  Zoë  ')).toBe('Zoë');
    expect(normalizeUsername('x'.repeat(32))).toBe('x'.repeat(32));
    for (const bad of [undefined, '', '   ', 'x'.repeat(33), 'a\u0000b', 'tab\there']) {
      expect(normalizeUsername(bad)).toBeUndefined();
    }
  });

  it('refuses lone surrogates in message text, usernames and room names, not pairs', () => {
    for (const lone of ['\ud800', 'a\udc00', '\ud83dz', 'z\ude00', '\ude00\ud83d']) {
      expect(checkMessageText(lone, 4000), JSON.stringify(lone)).toBe('malformed');
      expect(normalizeUsername(lone), JSON.stringify(lone)).toBeUndefined();
      expect(isValidRoomName(lone), JSON.stringify(lone)).toBe(false);
    }
    expect(checkMessageText('\ud83d\ude00', 4000)).toBeUndefined();
    expect(normalizeUsername('Zoë\ud83d\ude00')).toBe('Zoë😀');
    expect(isValidRoomName('\ud83d\ude00 room')).toBe(true);
  });
});
