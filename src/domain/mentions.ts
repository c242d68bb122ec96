/**
 * Mentions (contract, "Mentions, read markers, unread counts"): `@NAME`, NAME the username of a
 * user who can see the room, matched without regard to case (under the name key of names.ts, the
 * key usernames are unique under), the longest such name at that `@`. The `@` must follow the
 * start of the text or a character that is not a letter or digit (`bob@example.com` mentions
 * nobody), and the name must be followed by the end, white space or punctuation. `@room` and
 * `@everyone` mention everyone who can see the room; users named so cannot be mentioned by name.
 * Pure: who can see the room is the caller's `lookup`.
 */
import { MAX_USERNAME_CHARS } from './message.ts';
import { nameKey } from './names.ts';
import { compareCodePoints } from './sorted-names.ts';

/** What a message's text mentions, as the message carries it. */
export interface Mentions {
  /** Usernames, sorted by code point, each once. */
  mentions: string[];
  /** `@room` or `@everyone` was used. */
  mention_room: boolean;
}

/** The words that mention the whole room, as name keys. */
const ROOM_WORDS: ReadonlySet<string> = new Set(['room', 'everyone']);

/**
 * The most distinct candidate names one text may have looked up: a text of 4,000 characters made
 * of `@` and punctuation could otherwise ask for over 100,000. Real messages need a few.
 */
export const MAX_MENTION_LOOKUPS = 1000;

const LETTER_OR_DIGIT = /^[\p{L}\p{N}]$/u;
const NAME_END = /^[\s\p{P}]$/u;

/** Whether the character may stand before the `@` of a mention. */
function startsMention(before: string | undefined): boolean {
  return before === undefined || !LETTER_OR_DIGIT.test(before);
}

/** Whether the character (undefined: the end of the text) may follow a mentioned name. */
function endsName(after: string | undefined): boolean {
  return after === undefined || NAME_END.test(after);
}

/**
 * The mentions of `text`. `lookup(key)` answers the stored usernames whose name key is `key` among
 * the users who can see the room (open mode may have several: `Bob` and `bob`), or none.
 */
export function findMentions(text: string, lookup: (key: string) => readonly string[]): Mentions {
  const found = new Set<string>();
  let room = false;
  if (!text.includes('@')) return { mentions: [], mention_room: false };
  const chars = Array.from(text);
  const known = new Map<string, readonly string[]>();
  const lookupOnce = (key: string): readonly string[] => {
    let names = known.get(key);
    if (names === undefined) {
      names = known.size < MAX_MENTION_LOOKUPS ? lookup(key) : [];
      known.set(key, names);
    }
    return names;
  };
  for (let at = 0; at < chars.length; at++) {
    if (chars[at] !== '@' || !startsMention(chars[at - 1])) continue;
    const longest = Math.min(MAX_USERNAME_CHARS, chars.length - at - 1);
    for (let length = longest; length >= 1; length--) {
      const end = at + 1 + length;
      if (!endsName(chars[end])) continue;
      const candidate = chars.slice(at + 1, end).join('');
      // stored names are trimmed: `@ bob` names nobody
      if (candidate.trim() !== candidate) continue;
      const key = nameKey(candidate);
      if (ROOM_WORDS.has(key)) {
        room = true;
        break;
      }
      const names = lookupOnce(key);
      if (names.length > 0) {
        for (const name of names) found.add(name);
        break;
      }
    }
  }
  return { mentions: [...found].sort(compareCodePoints), mention_room: room };
}
