/**
 * The name rules (contract, "Messages"): usernames and room names are trimmed and NFC-normalised,
 * refuse Cc, Cf, Zl and Zp characters, count code points; room names are unique after NFKC case
 * folding.
 */
import { describe, expect, it } from 'vitest';
import {
  nameKey,
  normalizeName,
  normalizeRoomName,
  normalizeUsername,
} from '../../src/domain/names.ts';

const COMPOSED = 'g\u00e9n\u00e9ral'; // é as one code point
const DECOMPOSED = 'ge\u0301ne\u0301ral'; // e + combining acute accent

describe('names as stored', () => {
  it('trims and NFC-normalises, so a decomposed name is stored composed', () => {
    expect(normalizeRoomName(`  ${DECOMPOSED}\t`)).toBe(COMPOSED);
    expect(normalizeUsername(' Zoe\u0308 ')).toBe('Zo\u00eb');
    // NFC, not NFKC: a full-width name is stored as it was typed
    expect(normalizeRoomName('ｇｅｎｅｒａｌ')).toBe('ｇｅｎｅｒａｌ');
  });

  it.each([
    ['a zero-width space', 'general\u200b'],
    ['a zero-width joiner', 'gen\u200deral'],
    ['a zero-width non-joiner', 'gen\u200ceral'],
    ['a right-to-left override', 'alice\u202eevil'],
    ['a left-to-right isolate', '\u2066alice\u2069'],
    ['a right-to-left mark', 'alice\u200f'],
    ['a byte order mark inside', 'ali\ufeffce'],
    ['a soft hyphen', 'al\u00adice'],
    ['a line separator inside', 'ali\u2028ce'],
    ['a paragraph separator inside', 'ali\u2029ce'],
    ['a control character', 'ali\u0007ce'],
    ['a C1 control character', 'ali\u0085ce'],
    ['a new line', 'ali\nce'],
    ['a lone surrogate', 'ali\ud800ce'],
  ])('refuses %s in usernames and room names', (_what, name) => {
    expect(normalizeUsername(name)).toBeUndefined();
    expect(normalizeRoomName(name)).toBeUndefined();
  });

  it('counts the length in code points after normalising: usernames 1-32, room names 1-64', () => {
    expect(normalizeUsername('x'.repeat(32))).toBe('x'.repeat(32));
    expect(normalizeUsername('x'.repeat(33))).toBeUndefined();
    expect(normalizeRoomName('x'.repeat(64))).toBe('x'.repeat(64));
    expect(normalizeRoomName('x'.repeat(65))).toBeUndefined();
    // 64 decomposed é are 128 code points as sent, 64 once composed
    expect(normalizeRoomName('e\u0301'.repeat(64))).toBe('\u00e9'.repeat(64));
    expect(normalizeUsername('😀'.repeat(32))).toBe('😀'.repeat(32));
    for (const empty of ['', '   ', '\u3000']) {
      expect(normalizeUsername(empty)).toBeUndefined();
      expect(normalizeRoomName(empty)).toBeUndefined();
    }
    expect(normalizeUsername(undefined)).toBeUndefined();
    expect(normalizeName('ab', 1)).toBeUndefined();
  });

  it('keeps white space inside a name, letters of every script, and emoji', () => {
    expect(normalizeRoomName('team  room')).toBe('team  room');
    expect(normalizeUsername('Zoë')).toBe('Zoë');
    expect(normalizeUsername('Ὀδυσσεύς')).toBe('Ὀδυσσεύς');
    expect(normalizeUsername('山田')).toBe('山田');
    expect(normalizeRoomName('🎉 launch')).toBe('🎉 launch');
  });
});

describe('the key under which room names are unique', () => {
  it('makes General, general, full-width and decomposed lookalikes one name', () => {
    for (const name of ['General', 'general', 'GENERAL', 'ｇｅｎｅｒａｌ', 'ＧＥＮＥＲＡＬ']) {
      expect(nameKey(name), name).toBe('general');
    }
    expect(nameKey(DECOMPOSED)).toBe(nameKey(COMPOSED));
    expect(nameKey('GÉNÉRAL')).toBe(nameKey(DECOMPOSED));
  });

  it('folds case fully, where lower-casing alone does not: ß, ẞ and SS; Σ, σ and ς', () => {
    const strasse = ['Straße', 'STRASSE', 'strasse', 'STRAẞE'].map(nameKey);
    expect(new Set(strasse)).toEqual(new Set(['strasse']));
    expect(new Set(['ΟΔΟΣ', 'Οδος', 'οδος', 'οδοσ'].map(nameKey)).size).toBe(1);
  });

  it('folds compatibility characters: ligatures, the micro sign, circled and styled letters', () => {
    expect(nameKey('ﬁle')).toBe(nameKey('file'));
    expect(nameKey('µ')).toBe(nameKey('μ'));
    expect(nameKey('ⓖeneral')).toBe('general');
    expect(nameKey('𝐠𝐞𝐧𝐞𝐫𝐚𝐥')).toBe('general');
  });

  it('keeps names apart that differ in more than case and compatibility', () => {
    expect(nameKey('general')).not.toBe(nameKey('generals'));
    expect(nameKey('general')).not.toBe(nameKey('général'));
    expect(nameKey('team room')).not.toBe(nameKey('teamroom'));
  });
});

describe('usernames as the accounts store them', () => {
  it('stores names trimmed and NFC-normalised', () => {
    expect(normalizeUsername('  alice ')).toBe('alice');
    expect(normalizeUsername('Zoe\u0301')).toBe('Zo\u00e9');
    expect(normalizeUsername('Ünïcödé ok')).toBe('Ünïcödé ok');
    expect(normalizeUsername('x'.repeat(32))).toBe('x'.repeat(32));
    expect(normalizeUsername('😀'.repeat(32))).toBe('😀'.repeat(32));
  });

  it.each([
    ['empty', ''],
    ['blank', '   '],
    ['too long', 'x'.repeat(33)],
    ['control', 'a\u0007b'],
    ['newline', 'a\nb'],
    ['zero-width space (Cf)', 'general\u200b'],
    ['bidi override (Cf)', 'abc\u202etxt'],
    ['line separator (Zl)', 'a\u2028b'],
    ['paragraph separator (Zp)', 'a\u2029b'],
    ['lone surrogate', 'a\ud800'],
  ])('refuses a name with %s', (_what, raw) => {
    expect(normalizeUsername(raw)).toBeUndefined();
  });

  it('takes its own maximum (room names: 64)', () => {
    expect(normalizeName('x'.repeat(64), 64)).toBe('x'.repeat(64));
    expect(normalizeName('x'.repeat(65), 64)).toBeUndefined();
  });

  it('folds case and compatibility forms into one key', () => {
    const key = nameKey('General');
    for (const lookalike of ['general', 'GENERAL', '\uff27\uff45\uff4e\uff45\uff52\uff41\uff4c']) {
      expect(nameKey(lookalike)).toBe(key);
    }
    expect(nameKey('Stra\u00dfe')).toBe(nameKey('STRASSE'));
    expect(nameKey('\u03c3')).toBe(nameKey('\u03c2'));
    expect(nameKey('alice')).not.toBe(nameKey('alicia'));
  });
});
