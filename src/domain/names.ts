/**
 * The contract's name rules for usernames (and, with their own length, room names): trimmed and
 * NFC-normalised, no control, format or line/paragraph separator characters (Unicode Cc, Cf, Zl,
 * Zp: no zero-width or bidi tricks), no lone surrogates; unique after NFKC case folding.
 */
import { codePointLength, isWellFormed } from './message.ts';

/** The longest username, in code points. */
export const USERNAME_MAX_CHARS = 32;

const FORBIDDEN = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;

/**
 * The name as stored (trimmed, NFC), or undefined when it breaks the rules: empty, longer than
 * `maxChars` code points, or holding a forbidden character.
 */
export function normalizeName(raw: string, maxChars = USERNAME_MAX_CHARS): string | undefined {
  if (!isWellFormed(raw)) return undefined;
  const name = raw.normalize('NFC').trim();
  const length = codePointLength(name);
  if (length < 1 || length > maxChars || FORBIDDEN.test(name)) return undefined;
  return name;
}

/**
 * What two names must not share to be told apart: NFKC (full-width and compatibility forms),
 * then case folded. JavaScript has no full case folding; upper- then lower-casing comes close
 * (`ß` and `ss`, `ς` and `σ` are one key), and NFKC once more undoes what the case mapping
 * decomposed.
 */
export function nameKey(name: string): string {
  return name.normalize('NFKC').toUpperCase().toLowerCase().normalize('NFKC');
}
