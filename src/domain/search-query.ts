/**
 * The search query language (contract, "Search"): what `q` asks for, parsed once, the same in the
 * gateway (which refuses a bad query before asking storage) and in storage (which runs it).
 *
 * | in `q`                              | finds messages                                    |
 * | `word`                              | with that whole word (case, diacritics ignored)    |
 * | `word*`                             | with a word starting so (2+ characters before `*`) |
 * | `"two words"`                       | with these words next to each other, in order      |
 * | `from:alice`, `from:"alice smith"`  | by that user (case ignored)                        |
 * | `in:general`, `in:"team room"`      | in that room (case ignored)                        |
 *
 * Terms are separated by white space and combine with AND. A word holding punctuation (`e-mail`,
 * `don't`) is the phrase of its parts, as the index splits it; a term with no letter or digit
 * (`-`, `!!!`) finds nothing by itself and is left out; a quote left open closes at the end.
 */
import { codePointLength, isWellFormed } from './message.ts';
import { tokenize } from './search-text.ts';
import type { Phrase } from './search-text.ts';

export const SEARCH_MAX_CHARS = 200;
export const SEARCH_MAX_TERMS = 10;
/** The shortest prefix before `*`, in code points. */
export const SEARCH_MIN_PREFIX = 2;
export const SEARCH_DEFAULT_LIMIT = 20;
export const SEARCH_MAX_LIMIT = 100;

export interface SearchQuery {
  /** Words (phrases of one word), prefixes and phrases: every one must be in the text. */
  phrases: Phrase[];
  /** `from:` names as written (trimmed): the author must be each of them, case ignored. */
  from: string[];
  /** `in:` room names as written (trimmed): the room must be each of them, case ignored. */
  in: string[];
}

export type ParsedQuery = { ok: true; query: SearchQuery } | { ok: false; reason: string };

interface Term {
  kind: 'text' | 'from' | 'in';
  value: string;
  /** A text term written `word*` or `"some words"*`. */
  prefix: boolean;
}

const SPACE = /\s/u;
const OPERATOR = /^(from|in):/iu;

/** Parses `q`; a query the contract refuses (`400 bad_query`) comes back with the reason. */
export function parseSearchQuery(q: string | undefined): ParsedQuery {
  if (q === undefined || q.length === 0) return refuse('q is missing or empty');
  if (!isWellFormed(q)) return refuse('q is not well-formed Unicode (a lone surrogate)');
  if (codePointLength(q) > SEARCH_MAX_CHARS) {
    return refuse(`q is longer than ${SEARCH_MAX_CHARS} characters`);
  }
  const terms = splitTerms(q);
  if (terms.length > SEARCH_MAX_TERMS) {
    return refuse(`q has ${terms.length} terms; at most ${SEARCH_MAX_TERMS}`);
  }
  const query: SearchQuery = { phrases: [], from: [], in: [] };
  for (const term of terms) {
    if (term.kind !== 'text') {
      const name = term.value.trim();
      if (name === '') return refuse(`${term.kind}: needs a name`);
      query[term.kind].push(name);
      continue;
    }
    const words = tokenize(term.value).map((token) => token.text);
    const last = words.at(-1);
    if (term.prefix && (last === undefined || codePointLength(last) < SEARCH_MIN_PREFIX)) {
      return refuse(`a prefix needs ${SEARCH_MIN_PREFIX} or more characters before *`);
    }
    if (words.length > 0) query.phrases.push({ words, prefix: term.prefix });
  }
  if (query.phrases.length === 0 && query.from.length === 0) {
    return refuse('q needs at least one word, phrase or from:');
  }
  return { ok: true, query };
}

function refuse(reason: string): ParsedQuery {
  return { ok: false, reason };
}

/** The terms of `q`, as written, in order. */
function splitTerms(q: string): Term[] {
  const chars = Array.from(q);
  const terms: Term[] = [];
  let i = 0;
  while (i < chars.length) {
    if (SPACE.test(chars[i] as string)) {
      i++;
      continue;
    }
    const operator = OPERATOR.exec(chars.slice(i, i + 5).join(''));
    const kind = operator ? ((operator[1] as string).toLowerCase() as 'from' | 'in') : 'text';
    if (operator) i += (operator[1] as string).length + 1;
    let value: string;
    if (chars[i] === '"') {
      const close = chars.indexOf('"', i + 1);
      const end = close === -1 ? chars.length : close;
      value = chars.slice(i + 1, end).join('');
      i = end + 1;
    } else {
      const start = i;
      while (i < chars.length && !SPACE.test(chars[i] as string)) i++;
      value = chars.slice(start, i).join('');
    }
    let prefix = false;
    if (kind === 'text' && value.endsWith('*')) {
      prefix = true;
      value = value.slice(0, -1);
    } else if (kind === 'text' && chars[i] === '*') {
      // "some words"*: the quote closed, the star right after it
      prefix = true;
      i++;
    }
    terms.push({ kind, value, prefix });
  }
  return terms;
}
