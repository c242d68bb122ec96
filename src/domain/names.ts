import {
  codePointLength,
  isWellFormed,
  MAX_ROOM_NAME_CHARS,
  MAX_USERNAME_CHARS,
} from './message.ts';

/**
 * The name rules (contract, "Messages"), one place for usernames and room names: no two names
 * that look alike may pass for different people or rooms.
 */

// Control (Cc), format (Cf: zero-width spaces and joiners, bidi overrides and isolates, the BOM,
// soft hyphen) and line/paragraph separators (Zl, Zp): invisible or reordering characters that
// make one name look like another, or break terminals and transcripts.
const FORBIDDEN = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;

/**
 * A name as it is stored: NFC-normalised and trimmed, of 1 to `maxChars` code points, without a
 * lone surrogate or a forbidden character; undefined when it breaks a rule.
 */
export function normalizeName(raw: string, maxChars: number): string | undefined {
  // A lone surrogate is not Unicode: normalize() would keep it, and storage would mangle it.
  if (!isWellFormed(raw)) return undefined;
  const name = raw.normalize('NFC').trim();
  const length = codePointLength(name);
  if (length < 1 || length > maxChars || FORBIDDEN.test(name)) return undefined;
  return name;
}

/** The username as stored, or undefined when it is missing or breaks the rules (1-32). */
export function normalizeUsername(raw: string | undefined | null): string | undefined {
  if (raw === undefined || raw === null) return undefined;
  return normalizeName(raw, MAX_USERNAME_CHARS);
}

/** The room name as stored, or undefined when it breaks the rules (1-64). */
export function normalizeRoomName(raw: string): string | undefined {
  return normalizeName(raw, MAX_ROOM_NAME_CHARS);
}

export function isValidRoomName(raw: string): boolean {
  return normalizeRoomName(raw) !== undefined;
}

/**
 * The key under which names are unique: NFKC, then case folded, then NFKC again, so `General`,
 * `general`, `ｇｅｎｅｒａｌ` (full-width) and a decomposed `général` share one key.
 *
 * JavaScript has no Unicode case folding, and `toLowerCase` alone is not one: it leaves `ß`
 * apart from `ss` and maps the capital `ẞ` to `ß`. Lower, then upper, then lower case (all
 * locale-independent) gives what full folding gives for these: `ß`, `ẞ`, `SS` and `ss` become
 * `ss`; `Σ`, `σ` and a final `ς` become one (the last step picks σ or ς from the position, the
 * same way for every spelling). It merges a few that folding keeps apart (the dotless `ı` with
 * `i`), which for a uniqueness key errs on the safe side. Case mapping can undo NFKC (`ǰ` upper
 * cased is `J` and a combining caron), hence NFKC once more at the end.
 */
export function nameKey(name: string): string {
  return name.normalize('NFKC').toLowerCase().toUpperCase().toLowerCase().normalize('NFKC');
}
