/**
 * Words of a text as search sees them, and where a query's words are in a message. The index
 * (SQLite FTS5, tokenizer `unicode61 remove_diacritics 2`) decides which messages match; this
 * finds the matched words again in the text, to answer their [start, end) code-point offsets.
 *
 * Its rules follow unicode61's: a word is a run of letters (L), numbers (N) and private-use
 * characters (Co), with the combining diacritical marks (U+0300–U+036F) that follow letters;
 * everything else (spaces, punctuation, emoji, other marks) separates words. Words compare
 * folded: lower case, those combining diacritics dropped after canonical decomposition (`Café`,
 * `CAFE` and a decomposed `café` are one word). Where the two differ (the index keeps Greek
 * accents, this drops them), this is the more lenient: a word the index matched is found here.
 */

/** A word of a text: as written, folded, and where it is, in code points. */
export interface Token {
  text: string;
  folded: string;
  start: number;
  end: number;
}

const WORD_CHAR = /[\p{L}\p{N}\p{Co}]/u;
const DIACRITIC = /[\u0300-\u036f]/u;
const DIACRITICS = /[\u0300-\u036f]/gu;

/** The folded form of one word: what makes `Café` and `cafe` equal. */
export function foldWord(word: string): string {
  return word.normalize('NFD').replace(DIACRITICS, '').toLowerCase();
}

/** The words of `text`, in order, with their code-point offsets. */
export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let word = '';
  let start = 0;
  let index = 0;
  const flush = () => {
    if (word !== '') tokens.push({ text: word, folded: foldWord(word), start, end: index });
    word = '';
  };
  for (const char of text) {
    if (WORD_CHAR.test(char) || (word !== '' && DIACRITIC.test(char))) {
      if (word === '') start = index;
      word += char;
    } else {
      flush();
    }
    index++;
  }
  flush();
  return tokens;
}

/** Words next to each other, in order; `prefix`: the last one need only start so. */
export interface Phrase {
  /** As written (the index folds them itself); at least one. */
  words: string[];
  prefix: boolean;
}

/**
 * Where the phrases' words are in `text`: one [start, end) span of code points per matched word,
 * in text order, each word once (a word matched by two phrases, or inside a phrase, is one span).
 */
export function matchSpans(text: string, phrases: readonly Phrase[]): Array<[number, number]> {
  const tokens = tokenize(text);
  const matched = new Set<number>();
  for (const phrase of phrases) {
    const wanted = phrase.words.map(foldWord);
    const last = wanted.length - 1;
    for (let i = 0; i + last < tokens.length; i++) {
      const fits = wanted.every((word, j) => {
        const token = (tokens[i + j] as Token).folded;
        return phrase.prefix && j === last ? token.startsWith(word) : token === word;
      });
      if (fits) for (let j = 0; j <= last; j++) matched.add(i + j);
    }
  }
  return [...matched]
    .sort((a, b) => a - b)
    .map((i) => {
      const token = tokens[i] as Token;
      return [token.start, token.end];
    });
}
