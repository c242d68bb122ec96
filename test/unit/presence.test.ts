import { describe, expect, it } from 'vitest';
import { RoomPresence } from '../../src/domain/presence.ts';
import { compareCodePoints } from '../../src/domain/sorted-names.ts';
import { TokenBucket } from '../../src/domain/token-bucket.ts';

describe('room presence', () => {
  it('joins on the first connection across gateways and leaves on the last', () => {
    const presence = new RoomPresence();
    expect(presence.add(1, 'alice', 'g1')).toBe(true);
    expect(presence.add(1, 'alice', 'g1')).toBe(false);
    expect(presence.add(1, 'alice', 'g2')).toBe(false);
    expect(presence.remove(1, 'alice', 'g1')).toBe(false);
    expect(presence.remove(1, 'alice', 'g2')).toBe(false);
    expect(presence.users(1)).toEqual(['alice']);
    expect(presence.remove(1, 'alice', 'g1')).toBe(true);
    expect(presence.users(1)).toEqual([]);
    expect(presence.remove(1, 'alice', 'g1')).toBe(false);
  });

  it('forgets a gateway: only users seen nowhere else leave', () => {
    const presence = new RoomPresence();
    presence.add(1, 'bob', 'g1');
    presence.add(1, 'bob', 'g1');
    presence.add(1, 'carol', 'g1');
    presence.add(1, 'carol', 'g2');
    presence.add(2, 'dave', 'g1');
    expect(presence.removeGateway('g1')).toEqual([
      { serverId: 1, username: 'bob' },
      { serverId: 2, username: 'dave' },
    ]);
    expect(presence.users(1)).toEqual(['carol']);
    expect(presence.size(2)).toBe(0);
  });

  it('lists users sorted, each once', () => {
    const presence = new RoomPresence();
    for (const name of ['zed', 'amy', 'Mia', 'amy']) presence.add(3, name, 'g');
    expect(presence.users(3)).toEqual(['Mia', 'amy', 'zed']);
  });

  it('sorts by code point: a name above U+FFFF after one in U+E000-U+FFFF', () => {
    const presence = new RoomPresence();
    // JavaScript's default sort puts '😀' (U+1F600, units D83D DE00) before 'Ａ' (U+FF21)
    for (const name of ['😀', 'Ａ', '\ue000', 'z', '𝒜b', '𝒜a']) presence.add(1, name, 'g');
    expect(presence.users(1)).toEqual(['z', '\ue000', 'Ａ', '𝒜a', '𝒜b', '😀']);
    expect(['😀', 'Ａ'].sort(compareCodePoints)).toEqual(['Ａ', '😀']);
    expect(compareCodePoints('ab', 'a')).toBeGreaterThan(0);
    expect(compareCodePoints('a', 'a')).toBe(0);
  });

  it('pages names after a name, which need not be present, keeping the order through changes', () => {
    const presence = new RoomPresence();
    for (const name of ['d', 'b', 'e', 'a', 'c']) presence.add(2, name, 'g');
    expect(presence.page(2, undefined, 2)).toEqual(['a', 'b']);
    expect(presence.page(2, 'b', 2)).toEqual(['c', 'd']);
    expect(presence.page(2, 'bb', 10)).toEqual(['c', 'd', 'e']);
    expect(presence.page(2, 'e', 10)).toEqual([]);
    expect(presence.page(2, '', 1)).toEqual(['a']);
    presence.remove(2, 'c', 'g');
    presence.add(2, 'c', 'other-gateway');
    presence.add(2, 'c', 'g');
    presence.remove(2, 'a', 'g');
    expect(presence.users(2)).toEqual(['b', 'c', 'd', 'e']);
    presence.removeGateway('g');
    expect(presence.users(2)).toEqual(['c']);
    expect(presence.page(9, undefined, 10)).toEqual([]);
  });

  it('keeps names sorted under many random joins and leaves', () => {
    const presence = new RoomPresence();
    const present = new Set<string>();
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const alphabet = ['a', 'Z', 'é', '\uff21', '\u{1f600}', '\u{10000}', '\ue000', '0'];
    for (let i = 0; i < 3000; i++) {
      const name = Array.from(
        { length: 1 + Math.floor(random() * 3) },
        () => alphabet[Math.floor(random() * alphabet.length)],
      ).join('');
      if (present.has(name) && random() < 0.5) {
        presence.remove(4, name, 'g');
        present.delete(name);
      } else if (!present.has(name)) {
        presence.add(4, name, 'g');
        present.add(name);
      }
    }
    const byCodePoint = [...present].sort((a, b) => {
      const [x, y] = [[...a].map((c) => c.codePointAt(0)!), [...b].map((c) => c.codePointAt(0)!)];
      for (let i = 0; i < Math.min(x.length, y.length); i++)
        if (x[i] !== y[i]) return x[i]! - y[i]!;
      return x.length - y.length;
    });
    expect(presence.users(4)).toEqual(byCodePoint);
    expect(presence.size(4)).toBe(present.size);
  });
});

describe('token bucket', () => {
  it('lets a burst of twice the rate through, then the rate', () => {
    let now = 0;
    const bucket = new TokenBucket(5, 10, () => now);
    const burst = Array.from({ length: 12 }, () => bucket.take());
    expect(burst.filter(Boolean)).toHaveLength(10);
    now += 1000;
    expect(Array.from({ length: 6 }, () => bucket.take()).filter(Boolean)).toHaveLength(5);
  });
});

describe('gateway heartbeats', () => {
  it('replaces a gateway’s users and reports only the net room-wide changes', () => {
    const presence = new RoomPresence();
    presence.add(1, 'local', 'me');
    presence.add(1, 'local', 'me');
    presence.add(1, 'shared', 'me');
    expect(
      presence.replaceGateway('other', [
        [1, ['shared', 'remote']],
        [2, ['solo']],
      ]),
    ).toEqual([
      { kind: 'join', serverId: 1, username: 'remote' },
      { kind: 'join', serverId: 2, username: 'solo' },
    ]);
    expect(presence.gatewayState('other')).toEqual([
      [1, ['shared', 'remote']],
      [2, ['solo']],
    ]);
    // the next heartbeat: remote stays, solo is gone, shared left that gateway but not the room
    expect(presence.replaceGateway('other', [[1, ['remote']]])).toEqual([
      { kind: 'leave', serverId: 2, username: 'solo' },
    ]);
    expect(presence.users(1)).toEqual(['local', 'remote', 'shared']);
    expect(presence.gatewayState('me')).toEqual([[1, ['local', 'shared']]]);
    expect(presence.connections(1, 'local', 'me')).toBe(2);
    expect(presence.connections(1, 'local', 'other')).toBe(0);
  });
});
