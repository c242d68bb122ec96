/**
 * What the page shares with the server (src/web/protocol.js) agrees with the server's own:
 * close codes, default limits, the username rule, and the parsing of what the server sends.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { MAX_ROOM_NAME_CHARS, MAX_USERNAME_CHARS } from '../../src/domain/message.ts';
import { normalizeUsername } from '../../src/domain/names.ts';
import { CLOSE as SERVER_CLOSE } from '../../src/protocol.ts';
import {
  CLOSE,
  DEFAULT_CONFIG,
  codePoints,
  dmPartner,
  isRoom,
  parseClientConfig,
  parseServerFrame,
  roomTitle,
  validName,
} from '../../src/web/protocol.js';

describe("the page's protocol module", () => {
  it("names the server's close codes, each with the server's number", () => {
    expect(CLOSE).toEqual(SERVER_CLOSE);
  });

  it("starts from the server's default limits until GET /api/config answers", () => {
    const defaults = loadConfig({});
    expect(DEFAULT_CONFIG).toEqual({
      max_message_chars: defaults.maxMessageChars,
      max_username_chars: MAX_USERNAME_CHARS,
      max_room_name_chars: MAX_ROOM_NAME_CHARS,
      history_replay: defaults.historyReplay,
      rate_limit: defaults.rateLimit,
    });
  });

  it('accepts and trims a name exactly when the server would', () => {
    const names = [
      'alice',
      '  bob  ',
      '',
      '   ',
      'x'.repeat(32),
      'x'.repeat(33),
      '👍'.repeat(32),
      '👍'.repeat(33),
      'bell\u0007',
      'tab\tname',
      'del\u007f',
      'c1\u0085',
      'José',
      'Jose\u0301',
      'a b',
      'zero\u200bwidth',
      'bidi\u202eevil',
      'line\u2028sep',
      'lone\ud800',
    ];
    for (const name of names) {
      expect(validName(name), JSON.stringify(name)).toBe(normalizeUsername(name) ?? null);
    }
  });

  it('counts code points, as the server does', () => {
    expect(codePoints('👍a')).toBe(2);
    expect(codePoints('é')).toBe(1);
  });

  it('takes a text frame holding a JSON object with a type, and nothing else', () => {
    expect(parseServerFrame('{"type":"pong"}')).toEqual({ type: 'pong' });
    expect(parseServerFrame('{"type":"new_kind","x":1}')).toEqual({ type: 'new_kind', x: 1 });
    for (const data of ['not json', '[1]', '{"no":"type"}', '{"type":1}', 'null', '"pong"']) {
      expect(parseServerFrame(data), data).toBeNull();
    }
    expect(parseServerFrame(new Uint8Array([123, 125]))).toBeNull();
  });

  it('reads GET /api/config, keeping the default of a limit missing or malformed', () => {
    expect(
      parseClientConfig({
        max_message_chars: 10,
        max_username_chars: 32,
        max_room_name_chars: 64,
        history_replay: 0,
        rate_limit: 0,
        unknown: 'ignored',
      }),
    ).toEqual({
      max_message_chars: 10,
      max_username_chars: 32,
      max_room_name_chars: 64,
      history_replay: 0,
      rate_limit: 0,
    });
    expect(
      parseClientConfig({ max_message_chars: -1, history_replay: 1.5, rate_limit: '5' }),
    ).toEqual(DEFAULT_CONFIG);
    expect(parseClientConfig(null)).toEqual(DEFAULT_CONFIG);
    expect(parseClientConfig([])).toEqual(DEFAULT_CONFIG);
  });

  it('takes rooms with a name, and direct messages (no name) with their members', () => {
    const created_at = '2024-01-01T00:00:00.000Z';
    const dm = { id: 3, name: null, created_at, private: true, dm: true, members: ['al', 'bo'] };
    expect(isRoom({ id: 1, name: 'general', created_at })).toBe(true);
    expect(isRoom(dm)).toBe(true);
    expect(isRoom({ ...dm, members: undefined })).toBe(false);
    expect(isRoom({ id: 4, name: null, created_at })).toBe(false);
    expect(isRoom({ id: '1', name: 'general' })).toBe(false);
  });

  it("names a room #name, and a direct message by the other person's username", () => {
    const base = { created_at: '2024-01-01T00:00:00.000Z', archived: false, owner: null };
    const general = { ...base, id: 1, name: 'general', private: false, dm: false };
    const plans = { ...base, id: 2, name: 'plans', private: true, dm: false, owner: 'al' };
    const dm = { ...base, id: 3, name: null, private: true, dm: true, members: ['al', 'bo'] };
    expect(roomTitle(general, 'al')).toBe('#general');
    expect(roomTitle(plans, 'al')).toBe('#plans');
    expect(roomTitle(dm, 'al')).toBe('bo');
    expect(roomTitle(dm, 'bo')).toBe('al');
    expect(dmPartner(general, 'al')).toBe('');
  });
});
