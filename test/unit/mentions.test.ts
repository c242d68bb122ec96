/**
 * Contract, "Mentions, read markers, unread counts": what `@NAME` mentions. The rule is pure
 * (domain/mentions.ts); who can see the room is the lookup's, here a fixed list of users.
 */
import { describe, expect, it } from 'vitest';
import { MAX_MENTION_LOOKUPS, findMentions } from '../../src/domain/mentions.ts';
import { nameKey } from '../../src/domain/names.ts';

function among(...users: string[]) {
  return (text: string) =>
    findMentions(text, (key) => users.filter((user) => nameKey(user) === key));
}

describe('mentions', () => {
  const users = among('bob', 'alice', 'alice smith', 'Zoë', 'j.doe', 'room', 'everyone');

  it('names a user after an @ at the start or after a character that is not a letter or digit', () => {
    expect(users('@bob see plan').mentions).toEqual(['bob']);
    expect(users('hi @bob').mentions).toEqual(['bob']);
    expect(users('(@bob)').mentions).toEqual(['bob']);
    expect(users('"@bob"').mentions).toEqual(['bob']);
  });

  it('ignores case, and takes the stored spelling', () => {
    expect(users('@BOB and @zoë').mentions).toEqual(['Zoë', 'bob']);
  });

  it('needs the end, white space or punctuation after the name', () => {
    expect(users('@bob').mentions).toEqual(['bob']);
    expect(users('@bob, hi').mentions).toEqual(['bob']);
    expect(users('@bob.').mentions).toEqual(['bob']);
    expect(users('@bob\nnext line').mentions).toEqual(['bob']);
    expect(users('@bobby').mentions).toEqual([]);
    expect(users('@bob2').mentions).toEqual([]);
  });

  it('mentions nobody in an e-mail address', () => {
    expect(users('bob@example.com').mentions).toEqual([]);
    expect(users('write to alice@bob now').mentions).toEqual([]);
  });

  it('takes the longest name that matches', () => {
    expect(users('@alice smith, hi').mentions).toEqual(['alice smith']);
    expect(users('@alice smithers').mentions).toEqual(['alice']);
    expect(users('@alice').mentions).toEqual(['alice']);
  });

  it('matches names with punctuation in them', () => {
    expect(users('ping @j.doe.').mentions).toEqual(['j.doe']);
  });

  it('lists each user once, sorted by code point', () => {
    expect(users('@bob @alice @bob @Bob').mentions).toEqual(['alice', 'bob']);
  });

  it('mentions the room with @room and @everyone, and never a user named so', () => {
    expect(users('@room lunch?')).toEqual({ mentions: [], mention_room: true });
    expect(users('@Everyone: lunch')).toEqual({ mentions: [], mention_room: true });
    expect(users('@room and @bob').mentions).toEqual(['bob']);
    expect(users('@roomy').mention_room).toBe(false);
  });

  it('names nobody who cannot see the room, nor with a space after the @', () => {
    expect(users('@carol hi').mentions).toEqual([]);
    expect(users('@ bob').mentions).toEqual([]);
    expect(users('no at sign')).toEqual({ mentions: [], mention_room: false });
  });

  it('mentions both Bob and bob in open mode, where they are two users', () => {
    const open = among('Bob', 'bob');
    expect(open('@bob hi').mentions).toEqual(['Bob', 'bob']);
  });

  it(`looks up at most ${MAX_MENTION_LOOKUPS} distinct names in one text`, () => {
    let lookups = 0;
    const text = Array.from({ length: 2000 }, (_, i) => `@${i.toString(36)}`).join(' ');
    findMentions(text, () => {
      lookups++;
      return [];
    });
    expect(lookups).toBe(MAX_MENTION_LOOKUPS);
  });
});
