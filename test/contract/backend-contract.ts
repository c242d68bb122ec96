/**
 * The contract every bus + history-client pair must meet, run against each implementation
 * (embedded: in-process; NATS: JetStream and a history service over request/reply).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HistoryClient, MessageBus, RoomEvent } from '../../src/bus/types.ts';
import type { RoomChange } from '../../src/domain/changes.ts';
import type { Message } from '../../src/domain/message.ts';
import { ChatError } from '../../src/errors.ts';
import type { AccountsClient } from '../../src/bus/types.ts';
import { eventually } from '../helpers/eventually.ts';
import { describeAccounts } from './accounts-contract.ts';

export interface Backend {
  /** Two buses, as two gateways would have (the same one twice in embedded mode). */
  buses: [MessageBus, MessageBus];
  history: HistoryClient;
  /** Each gateway's accounts (the same twice in embedded mode). */
  accounts: [AccountsClient, AccountsClient];
  close(): Promise<void>;
}

function collector() {
  const got: Message[] = [];
  let wake: (() => void) | undefined;
  return {
    got,
    handler: (change: RoomChange) => {
      if (change.type !== 'message') return;
      got.push(change.message);
      wake?.();
    },
    async until(count: number): Promise<Message[]> {
      const deadline = Date.now() + 5000;
      while (got.length < count) {
        if (Date.now() > deadline) throw new Error(`got ${got.length} of ${count} messages`);
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 100);
        });
      }
      return got;
    },
  };
}

export function describeBackend(name: string, create: () => Promise<Backend>): void {
  describe(`${name} bus and history client`, () => {
    let backend: Backend;
    let bus: MessageBus;
    let other: MessageBus;
    let history: HistoryClient;
    let room: number;

    beforeAll(async () => {
      backend = await create();
      [bus, other] = backend.buses;
      history = backend.history;
      room = (await history.createRoom(`contract-${name}`, false, null)).id;
    });

    afterAll(async () => {
      await backend.close();
    });

    it('has room general with id 1 and creates rooms with case-insensitive unique names', async () => {
      const rooms = await history.listRooms(null, false);
      expect(rooms[0]).toMatchObject({ id: 1, name: 'general' });
      expect(await history.getRoom(room, null)).toMatchObject({
        id: room,
        name: `contract-${name}`,
      });
      expect(await history.getRoom(987654, null)).toBeUndefined();
      await expect(history.createRoom(`CONTRACT-${name}`, false, null)).rejects.toSatisfy(
        (error: unknown) => error instanceof ChatError && error.code === 'room_name_taken',
      );
    });

    it('applies the name rules to every room it creates: NFC, no format characters, unique after NFKC case folding', async () => {
      const isCode = (code: string) => (error: unknown) =>
        error instanceof ChatError && error.code === code;
      const created = await history.createRoom(`  cafe\u0301-${name} `, false, null);
      expect(created.name).toBe(`caf\u00e9-${name}`);
      await expect(history.createRoom(`CAFÉ-${name}`, false, null)).rejects.toSatisfy(
        isCode('room_name_taken'),
      );
      await expect(history.createRoom('ｇｅｎｅｒａｌ', false, null)).rejects.toSatisfy(
        isCode('room_name_taken'),
      );
      await expect(history.createRoom('general\u200b', false, null)).rejects.toSatisfy(
        isCode('invalid_room_name'),
      );
    });

    it('counts the rooms without listing them', async () => {
      const before = await history.roomCount();
      expect(before).toBe((await history.listRooms(null, false)).length);
      await history.createRoom(`counted-${name}`, false, null);
      expect(await history.roomCount()).toBe(before + 1);
    });

    it('publishes durably with increasing ids and delivers each message once, in order, to every subscriber', async () => {
      const here = collector();
      const there = collector();
      const elsewhere = collector();
      const subscriptions = await Promise.all([
        bus.subscribe(room, here.handler),
        other.subscribe(room, there.handler),
        bus.subscribe(1, elsewhere.handler),
      ]);
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          (i % 2 ? other : bus).publish({ serverId: room, username: `u${i % 3}`, text: `t${i}` }),
        ),
      );
      const ids = results.map((r) => r.id);
      expect(results.every((r) => !r.duplicate)).toBe(true);
      expect(new Set(ids).size).toBe(20);
      const seenHere = await here.until(20);
      const seenThere = await there.until(20);
      expect(seenHere.map((m) => m.id)).toEqual([...ids].sort((a, b) => a - b));
      expect(seenThere).toEqual(seenHere);
      expect(seenHere[0]).toMatchObject({ server_id: room, ts: expect.stringMatching(/Z$/) });
      expect(elsewhere.got).toEqual([]);
      for (const subscription of subscriptions) subscription.unsubscribe();
    });

    it('never stores a (room, username, client_id) twice and answers the first id', async () => {
      const seen = collector();
      const subscription = await other.subscribe(room, seen.handler);
      const first = await bus.publish({
        serverId: room,
        username: 'ann',
        text: 'a',
        clientId: 'k1',
      });
      const again = await other.publish({
        serverId: room,
        username: 'ann',
        text: 'b',
        clientId: 'k1',
      });
      const otherUser = await bus.publish({
        serverId: room,
        username: 'ben',
        text: 'c',
        clientId: 'k1',
      });
      expect(first.duplicate).toBe(false);
      expect(again).toEqual({ id: first.id, duplicate: true });
      expect(otherUser.duplicate).toBe(false);
      expect((await seen.until(2)).map((m) => m.text)).toEqual(['a', 'c']);
      subscription.unsubscribe();
    });

    it('replays every message published before the call, with the newest id', async () => {
      const target = (await history.createRoom(`replay-${name}`, false, null)).id;
      const published: number[] = [];
      for (let i = 0; i < 7; i++) {
        published.push((await bus.publish({ serverId: target, username: 'r', text: `r${i}` })).id);
      }
      const replay = await history.replay({
        serverId: target,
        replayCount: 5,
        sinceLimit: 3,
        maxBytes: 1e6,
      });
      expect(replay.messages.map((m) => m.id)).toEqual(published.slice(2));
      expect(replay).toMatchObject({ lastId: published[6], more: false, reset: false });
      const since = await history.replay({
        serverId: target,
        since: published[1],
        replayCount: 5,
        sinceLimit: 3,
        maxBytes: 1e6,
      });
      expect(since.messages.map((m) => m.id)).toEqual(published.slice(2, 5));
      expect(since.more).toBe(true);
      const page = await history.messages({ serverId: target, limit: 2, before: published[3] });
      expect(page.map((m) => ('text' in m ? m.text : undefined))).toEqual(['r1', 'r2']);
    });

    it('caps replays and pages at maxBytes of JSON, leaving out what does not fit', async () => {
      const target = (await history.createRoom(`bytes-${name}`, false, null)).id;
      const stored: Message[] = [];
      const seen = collector();
      const subscription = await bus.subscribe(target, seen.handler);
      for (let i = 0; i < 5; i++) {
        await bus.publish({ serverId: target, username: 'b', text: '\u0001'.repeat(100) });
      }
      stored.push(...(await seen.until(5)));
      subscription.unsubscribe();
      // exactly the first two as one JSON array
      const two = Buffer.byteLength(JSON.stringify(stored.slice(0, 2)));
      const ids = stored.map((m) => m.id);
      const request = { serverId: target, replayCount: 5, sinceLimit: 5, maxBytes: two };
      const since = await history.replay({ ...request, since: 0 });
      expect(since.messages.map((m) => m.id)).toEqual(ids.slice(0, 2));
      expect(since.more).toBe(true);
      const fresh = await history.replay(request);
      expect(fresh.messages.map((m) => m.id)).toEqual(ids.slice(3));
      expect(fresh.more).toBe(false);
      const after = await history.messages({ serverId: target, limit: 5, after: 0, maxBytes: two });
      expect(after.map((m) => m.id)).toEqual(ids.slice(0, 2));
      const newest = await history.messages({ serverId: target, limit: 5, maxBytes: two - 1 });
      expect(newest.map((m) => m.id)).toEqual(ids.slice(4));
    });

    it('searches what it stored, newest first, with rooms and match offsets; refuses a bad query', async () => {
      const roomName = `search-${name}`;
      const target = (await history.createRoom(roomName, false, null)).id;
      const word = `zebra${name.toLowerCase()}`;
      const first = await bus.publish({ serverId: target, username: 'sam', text: `${word} one` });
      const second = await other.publish({ serverId: target, username: 'Sue', text: `a ${word}` });
      // NATS mode: found once the history service stored it
      const page = await eventually(
        () => history.search({ q: `${word} in:${roomName}`, viewer: null, limit: 10 }),
        (found) => found.results.length === 2,
      );
      expect(page).toEqual({
        results: [
          {
            message: expect.objectContaining({ id: second.id, text: `a ${word}` }),
            room: { id: target, name: roomName },
            matches: [[2, 2 + word.length]],
          },
          {
            message: expect.objectContaining({ id: first.id, username: 'sam' }),
            room: { id: target, name: roomName },
            matches: [[0, word.length]],
          },
        ],
        more: false,
      });
      const bySue = await history.search({ q: 'from:sue', viewer: null, limit: 1 });
      expect(bySue.results.map((hit) => hit.message.id)).toEqual([second.id]);
      await expect(
        history.search({ q: `in:${roomName}`, viewer: null, limit: 10 }),
      ).rejects.toSatisfy(
        (error: unknown) => error instanceof ChatError && error.code === 'bad_query',
      );
    });

    it('carries room events between gateways', async () => {
      const received: RoomEvent[] = [];
      const subscription = other.onEvent((event) => received.push(event));
      const event: RoomEvent = {
        kind: 'typing',
        gatewayId: 'g-test',
        serverId: room,
        username: 'tim',
      };
      bus.publishEvent(event);
      const deadline = Date.now() + 5000;
      while (!received.some((e) => e.kind === 'typing' && e.username === 'tim')) {
        if (Date.now() > deadline) throw new Error('event not received');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(received.find((e) => e.kind === 'typing')).toEqual(event);
      subscription.unsubscribe();
    });

    it('is ready and reports a history lag', async () => {
      expect(bus.isReady()).toBe(true);
      expect(await history.isReady()).toBe(true);
      expect(await history.lag()).toBeGreaterThanOrEqual(0);
    });

    describe('accounts', () => {
      describeAccounts(name, () => backend);
    });
  });
}
