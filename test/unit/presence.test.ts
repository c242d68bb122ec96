import { describe, expect, it } from 'vitest';
import { RoomPresence } from '../../src/domain/presence.ts';
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
