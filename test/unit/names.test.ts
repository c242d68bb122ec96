import { describe, expect, it } from 'vitest';
import { nameKey, normalizeName } from '../../src/domain/names.ts';

describe('name rules', () => {
  it('stores names trimmed and NFC-normalised', () => {
    expect(normalizeName('  alice ')).toBe('alice');
    expect(normalizeName('Zoe\u0301')).toBe('Zo\u00e9');
    expect(normalizeName('Ünïcödé ok')).toBe('Ünïcödé ok');
    expect(normalizeName('x'.repeat(32))).toBe('x'.repeat(32));
    expect(normalizeName('😀'.repeat(32))).toBe('😀'.repeat(32));
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
    expect(normalizeName(raw)).toBeUndefined();
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
