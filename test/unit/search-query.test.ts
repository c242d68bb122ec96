/**
 * The search query language (contract, "Search"): words, prefixes, phrases, from: and in:, the
 * limits of `q` (1-200 code points, at most 10 terms, a word, phrase or from:), and the match
 * offsets: [start, end) in code points, one span per word, also inside a phrase.
 */
import { describe, expect, it } from 'vitest';
import { parseSearchQuery } from '../../src/domain/search-query.ts';
import type { SearchQuery } from '../../src/domain/search-query.ts';
import { foldWord, matchSpans, tokenize } from '../../src/domain/search-text.ts';

function parsed(q: string): SearchQuery {
  const result = parseSearchQuery(q);
  if (!result.ok) throw new Error(`refused: ${result.reason}`);
  return result.query;
}

function refused(q: string | undefined): string {
  const result = parseSearchQuery(q);
  if (result.ok) throw new Error(`accepted: ${JSON.stringify(result.query)}`);
  return result.reason;
}

describe('parsing a query', () => {
  it('reads words, prefixes, phrases, from: and in:, terms in any order', () => {
    expect(parsed('hello caf* "two words" from:alice in:general')).toEqual({
      phrases: [
        { words: ['hello'], prefix: false },
        { words: ['caf'], prefix: true },
        { words: ['two', 'words'], prefix: false },
      ],
      from: ['alice'],
      in: ['general'],
    });
  });

  it('reads quoted names after from: and in:, and the operators in any case', () => {
    expect(parsed('From:"alice smith" IN:"team room" plan')).toEqual({
      phrases: [{ words: ['plan'], prefix: false }],
      from: ['alice smith'],
      in: ['team room'],
    });
  });

  it('keeps words as written (the index folds them) and splits them at punctuation', () => {
    expect(parsed('Café e-mail')).toEqual({
      phrases: [
        { words: ['Café'], prefix: false },
        { words: ['e', 'mail'], prefix: false },
      ],
      from: [],
      in: [],
    });
  });

  it('takes a star after a closing quote as a prefix phrase, and closes an open quote at the end', () => {
    expect(parsed('"two wor"* "left open').phrases).toEqual([
      { words: ['two', 'wor'], prefix: true },
      { words: ['left', 'open'], prefix: false },
    ]);
  });

  it('leaves out terms without a letter or digit, which find nothing by themselves', () => {
    expect(parsed('hello - !!! ""').phrases).toEqual([{ words: ['hello'], prefix: false }]);
  });

  it('accepts a query of only from:', () => {
    expect(parsed('from:bob')).toEqual({ phrases: [], from: ['bob'], in: [] });
  });

  it('accepts 1 and 200 code points, astral characters counting one each', () => {
    expect(parsed('a').phrases).toHaveLength(1);
    expect(parsed('x'.repeat(200)).phrases).toHaveLength(1);
    // 100 astral characters: 200 UTF-16 units, 100 code points, plus a word
    expect(parsed(`${'😀'.repeat(100)} ${'y'.repeat(99)}`).phrases).toHaveLength(1);
  });

  it('accepts 10 terms', () => {
    expect(parsed('a b c d e f g h i j').phrases).toHaveLength(10);
  });
});

describe('refusing a query (400 bad_query)', () => {
  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['201 code points', 'x'.repeat(201)],
    ['201 astral code points', '😀'.repeat(201)],
    ['11 terms', 'a b c d e f g h i j k'],
    ['11 terms, some of them operators', 'a b c d e f g h from:x in:y in:z'],
    ['only in:', 'in:general'],
    ['only white space', '   '],
    ['only punctuation', '!!! ---'],
    ['a prefix of one character', 'a*'],
    ['a star alone', '*'],
    ['a prefix whose last word has one character', 'e-m*'],
    ['from: without a name', 'hello from:'],
    ['in: with an empty quoted name', 'hello in:""'],
    ['a lone surrogate', 'a\ud800'],
  ])('%s', (_what, q) => {
    expect(refused(q)).toEqual(expect.any(String));
  });
});

describe('words and match offsets', () => {
  it('splits a text into words with code-point offsets, folding case and diacritics', () => {
    expect(tokenize('Café, CAFE and cafe\u0301!')).toEqual([
      { text: 'Café', folded: 'cafe', start: 0, end: 4 },
      { text: 'CAFE', folded: 'cafe', start: 6, end: 10 },
      { text: 'and', folded: 'and', start: 11, end: 14 },
      { text: 'cafe\u0301', folded: 'cafe', start: 15, end: 20 },
    ]);
    expect(foldWord('NAÏVE')).toBe('naive');
  });

  it('counts code points, not UTF-16 units, past astral characters', () => {
    const text = '😀😀 hello 𝒳 world';
    const spans = matchSpans(text, [{ words: ['world'], prefix: false }]);
    // 😀😀 (2) space (1) hello (5) space (1) 𝒳 (1) space (1): world starts at 11
    expect(spans).toEqual([[11, 16]]);
    expect(Array.from(text).slice(11, 16).join('')).toBe('world');
    // 𝒳 is a letter: a word of one code point (two UTF-16 units)
    expect(matchSpans(text, [{ words: ['𝒳'], prefix: false }])).toEqual([[9, 10]]);
  });

  it('gives one span per word of a phrase, in text order, each word once', () => {
    const text = 'the plan is the plan';
    expect(
      matchSpans(text, [
        { words: ['the', 'plan'], prefix: false },
        { words: ['plan'], prefix: false },
      ]),
    ).toEqual([
      [0, 3],
      [4, 8],
      [12, 15],
      [16, 20],
    ]);
  });

  it('matches whole words only, and prefixes at the start of words', () => {
    expect(matchSpans('planet plan explain', [{ words: ['plan'], prefix: false }])).toEqual([
      [7, 11],
    ]);
    expect(matchSpans('planet plan explain', [{ words: ['pla'], prefix: true }])).toEqual([
      [0, 6],
      [7, 11],
    ]);
  });

  it('finds a phrase only with its words next to each other, in order', () => {
    expect(matchSpans('two good words', [{ words: ['two', 'words'], prefix: false }])).toEqual([]);
    expect(matchSpans('words two', [{ words: ['two', 'words'], prefix: false }])).toEqual([]);
    expect(matchSpans('Two-Words', [{ words: ['two', 'words'], prefix: false }])).toEqual([
      [0, 3],
      [4, 9],
    ]);
  });

  it('ignores case and diacritics in the query too', () => {
    expect(matchSpans('un café noir', [{ words: ['CAFÉ'], prefix: false }])).toEqual([[3, 7]]);
    expect(matchSpans('un cafe noir', [{ words: ['café'], prefix: false }])).toEqual([[3, 7]]);
  });
});
