/**
 * The client library's merge rule (src/web/messages.js; contract, "One sequence per room":
 * clients apply a change only if its seq is above the one they hold, so replays, REST pages and
 * live frames merge in any order). A model server makes a random history of messages, edits,
 * reactions and deletes; a client gets the live frames in order and snapshots of the room taken at
 * random moments, delivered at random moments: it must end holding exactly the server's room.
 */
import { describe, expect, it } from 'vitest';
import { RoomMessages } from '../../src/web/messages.js';
import type { Message, Tombstone } from '../../src/domain/message.ts';
import type { ServerFrame } from '../../src/protocol.ts';

type Live = Extract<ServerFrame, { type: 'message' | 'edit' | 'delete' | 'reaction' }>;

/** A small seeded generator (mulberry32): a failing seed can be run again. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const EMOJI = ['👍', '🎉', '❤️'];
const USERS = ['alice', 'bob', 'carol'];

/** The model server: the room as it is after each seq, and the live frames. */
function history(rand: () => number, changes: number) {
  const room = new Map<number, Message | Tombstone>();
  const live: Live[] = [];
  const snapshots: Array<Array<Message | Tombstone>> = [];
  const pick = <T>(list: T[]): T => list[Math.floor(rand() * list.length)]!;
  for (let seq = 1; seq <= changes; seq++) {
    const alive = [...room.values()].filter((m): m is Message => !('deleted' in m));
    const roll = rand();
    if (alive.length === 0 || roll < 0.3) {
      const m: Message = {
        id: seq,
        server_id: 1,
        username: pick(USERS),
        text: `m${seq}`,
        ts: 't',
        seq,
      };
      room.set(seq, m);
      live.push({ type: 'message', ...m });
    } else {
      const target = structuredClone(pick(alive));
      target.seq = seq;
      if (roll < 0.5) {
        target.text = `edit ${seq}`;
        target.edited_at = `e${seq}`;
        live.push({ type: 'edit', id: target.id, seq, text: target.text, edited_at: `e${seq}` });
        room.set(target.id, target);
      } else if (roll < 0.9) {
        const emoji = pick(EMOJI);
        const username = pick(USERS);
        const reactions = target.reactions ?? [];
        let entry = reactions.find((r) => r.emoji === emoji);
        const on = !entry?.users.includes(username);
        if (on) {
          if (!entry) reactions.push((entry = { emoji, count: 0, users: [] }));
          entry.users.push(username);
        } else entry!.users = entry!.users.filter((u) => u !== username);
        entry!.count = entry!.users.length;
        target.reactions = reactions.filter((r) => r.count > 0);
        if (target.reactions.length === 0) delete target.reactions;
        live.push({
          type: 'reaction',
          id: target.id,
          seq,
          emoji,
          username,
          on,
          count: entry!.count,
        });
        room.set(target.id, target);
      } else {
        const { id, server_id, username, ts } = target;
        room.set(id, { id, server_id, username, ts, seq, deleted: true });
        live.push({ type: 'delete', id, seq });
      }
    }
    snapshots.push([...room.values()].map((m) => structuredClone(m)));
  }
  return { room, live, snapshots };
}

function heldState(state: RoomMessages): Message[] {
  // Live message frames carry their `type`: not part of the message.
  return state.all().map((m) => {
    const copy: Message & { type?: string } = { ...m };
    delete copy.type;
    return copy;
  });
}

describe('the merge rule', () => {
  it('ends in the server state whatever the interleaving of replays, updates and live frames', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const rand = random(seed);
      const { room, live, snapshots } = history(rand, 40);
      // Deliveries: every live frame in seq order, and a few snapshots (a replay, a REST page or
      // `updates`: a random part of the room at a random moment) slotted in anywhere.
      const deliveries: Array<{ live: Live } | { snapshot: Array<Message | Tombstone> }> = live.map(
        (frame) => ({ live: frame }),
      );
      // Some messages come only in a page (their live frame was before the join): the page,
      // taken at any moment after the message was made, may come after changes to it.
      for (let i = deliveries.length - 1; i >= 0; i--) {
        const d = deliveries[i]!;
        if (!('live' in d) || d.live.type !== 'message' || rand() < 0.7) continue;
        const id = d.live.id;
        const taken = snapshots[id - 1 + Math.floor(rand() * (snapshots.length - id + 1))]!;
        deliveries.splice(i, 1);
        const page = taken.filter((m) => m.id === id);
        deliveries.splice(Math.floor(rand() * (deliveries.length + 1)), 0, { snapshot: page });
      }
      for (let i = 0; i < 6; i++) {
        const taken = snapshots[Math.floor(rand() * snapshots.length)]!;
        const part = taken.filter(() => rand() < 0.6);
        deliveries.splice(Math.floor(rand() * (deliveries.length + 1)), 0, { snapshot: part });
      }
      const state = new RoomMessages();
      for (const d of deliveries) {
        if ('live' in d) {
          if (d.live.type === 'message') state.snapshot(d.live);
          else state.change(d.live);
        } else d.snapshot.forEach((item) => state.snapshot(item));
      }
      const expected = [...room.values()]
        .filter((m): m is Message => !('deleted' in m))
        .sort((a, b) => a.id - b.id);
      expect(heldState(state), `seed ${seed}`).toEqual(expected);
      for (const m of room.values()) {
        if ('deleted' in m) expect(state.deleted(m.id), `seed ${seed}`).toBe(true);
      }
    }
  });

  it('ignores a change whose seq is not above the one held, and a late copy of a deleted message', () => {
    const state = new RoomMessages();
    const m: Message = { id: 1, server_id: 1, username: 'a', text: 'new', ts: 't', seq: 5 };
    expect(state.snapshot(m)).toEqual([{ type: 'put', message: m }]);
    expect(state.change({ type: 'edit', id: 1, seq: 4, text: 'old', edited_at: 'e' })).toEqual([]);
    expect(state.snapshot({ ...m, text: 'older', seq: 3 })).toEqual([]);
    expect(state.get(1)?.text).toBe('new');
    expect(state.change({ type: 'delete', id: 1, seq: 6 })).toEqual([{ type: 'gone', id: 1 }]);
    expect(state.snapshot(m)).toEqual([]);
    expect(state.get(1)).toBeUndefined();
  });

  it('keeps quotes of replies in step with their original: edited, then gone when it is deleted', () => {
    const state = new RoomMessages();
    state.snapshot({ id: 1, server_id: 1, username: 'bob', text: 'where?', ts: 't', seq: 1 });
    state.snapshot({
      id: 2,
      server_id: 1,
      username: 'al',
      text: 'here',
      ts: 't',
      seq: 2,
      reply_to: 1,
    });
    expect(state.get(2)?.quote).toEqual({ username: 'bob', text: 'where?' });
    const edited = state.change({
      type: 'edit',
      id: 1,
      seq: 3,
      text: 'where is it?',
      edited_at: 'e',
    });
    expect(edited.map((e) => (e.type === 'put' ? e.message.id : -e.id))).toEqual([1, 2]);
    expect(state.get(2)?.quote).toEqual({ username: 'bob', text: 'where is it?' });
    state.change({ type: 'delete', id: 1, seq: 4 });
    expect(state.get(2)?.quote).toBeUndefined();
    expect(state.get(2)?.reply_to).toBe(1);
  });
});
