/**
 * What arrives over NATS is checked before it is used (src/nats/history-ops.ts,
 * stream-message.ts, bus/nats/room-events.ts): a malformed history request is answered
 * `bad_request`, a malformed room event, stream message or access event is dropped, and each is counted in
 * `chatroom_internal_errors_total{where}`; what follows it is served as before. A real
 * nats-server, the real history service and bus, and a raw NATS connection that sends the junk.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { NatsBus } from '../../src/bus/nats/nats-bus.ts';
import { NatsHistoryClient } from '../../src/bus/nats/nats-history-client.ts';
import type { RoomEvent } from '../../src/bus/types.ts';
import type { AccessUpdate } from '../../src/domain/access-events.ts';
import type { Message } from '../../src/domain/message.ts';
import { HistoryService } from '../../src/history/history-service.ts';
import { NatsHistoryService } from '../../src/history/nats-history-service.ts';
import { internalErrors } from '../../src/internal-errors.ts';
import type { InternalErrorPlace } from '../../src/internal-errors.ts';
import { connectNats } from '../../src/nats/connection.ts';
import type { NatsLink } from '../../src/nats/connection.ts';
import { tempDir } from '../helpers/chat-server.ts';
import { TestNatsServer } from '../helpers/nats-server.ts';

const log = pino({ level: 'silent' });
let nats: TestNatsServer;
let links: NatsLink[];
let store: HistoryService;
let service: NatsHistoryService;
let bus: NatsBus;
let client: NatsHistoryClient;
let raw: NatsConnection;

async function counted(where: InternalErrorPlace): Promise<number> {
  const { values } = await internalErrors.get();
  return values.find((value) => value.labels.where === where)?.value ?? 0;
}

/** Asks the history service by hand; its answer is one part (a small one). */
async function ask(op: string, body: string): Promise<unknown> {
  const reply = await raw.request(`chatroom.history.${op}`, body, { timeout: 5000 });
  return reply.json();
}

beforeAll(async () => {
  nats = await TestNatsServer.start();
  links = await Promise.all(['history', 'gateway'].map((name) => connectNats(nats.url, name, log)));
  store = new HistoryService(tempDir());
  service = new NatsHistoryService(
    store,
    links[0]!,
    { streamMaxAgeMs: 3_600_000, dedupeWindowMs: 60_000, catchUpTimeoutMs: 3000 },
    log,
  );
  await service.start();
  bus = new NatsBus(links[1]!, { publishTimeoutMs: 3000 }, log);
  await bus.started();
  client = new NatsHistoryClient(links[1]!, 3000);
  raw = await connect({ servers: nats.url });
}, 30_000);

afterAll(async () => {
  await raw?.close();
  await bus?.close();
  await service?.close();
  for (const link of links ?? []) await link.close();
  store?.close();
  await nats?.stop();
});

describe('malformed payloads over NATS', () => {
  it('answers a malformed history request bad_request, counts it, and answers the next', async () => {
    const before = await counted('history_request');
    for (const [op, body] of [
      ['messages', 'not json'],
      ['messages', '{"serverId":"1","limit":5}'],
      ['room', '[]'],
      ['no_such_op', '{}'],
    ] as const) {
      expect(await ask(op, body), `${op} ${body}`).toMatchObject({
        ok: false,
        code: 'bad_request',
      });
    }
    expect(await counted('history_request')).toBe(before + 4);
    expect(await ask('room_count', '{}')).toEqual({ ok: true, result: store.rooms.count() });
  });

  it('drops a malformed room event, counts it, and passes the next', async () => {
    const before = await counted('room_event');
    const got: RoomEvent[] = [];
    let wake: () => void = () => undefined;
    const arrived = new Promise<void>((resolve) => (wake = resolve));
    const listening = bus.onEvent((event) => {
      got.push(event);
      if (event.kind === 'gateway_hello') wake();
    });
    // one connection: the junk arrives before the hello
    for (const junk of ['not json', '{"kind":"join","gatewayId":"x"}', '{"kind":"shout"}']) {
      raw.publish('chatroom.events', junk);
    }
    raw.publish('chatroom.events', JSON.stringify({ kind: 'gateway_hello', gatewayId: 'probe' }));
    await arrived;
    listening.unsubscribe();
    expect(got).toEqual([{ kind: 'gateway_hello', gatewayId: 'probe' }]);
    expect(await counted('room_event')).toBe(before + 3);
  });

  it('skips a malformed stream message in the live feed and in history, and counts it', async () => {
    const room = await client.createRoom('junk', false, null);
    const before = await counted('stream_message');
    const got: Message[] = [];
    let wake: () => void = () => undefined;
    const arrived = new Promise<void>((resolve) => (wake = resolve));
    const subscription = await bus.subscribe(room.id, (change) => {
      if (change.type === 'message') got.push(change.message);
      wake();
    });
    const js = jetstream(raw);
    await js.publish(`chat.${room.id}`, 'not json');
    await js.publish(`chat.${room.id}`, JSON.stringify({ server_id: room.id, username: 7 }));
    const { id } = await bus.publish({ serverId: room.id, username: 'ann', text: 'after' });
    await arrived;
    subscription.unsubscribe();
    expect(got.map((message) => [message.id, message.text])).toEqual([[id, 'after']]);
    // the replay waits until the history service persisted the room up to `id`
    const replay = await client.replay({
      serverId: room.id,
      replayCount: 10,
      sinceLimit: 10,
      maxBytes: 1e6,
    });
    expect(replay.messages.map((message) => [message.id, message.text])).toEqual([[id, 'after']]);
    // twice each: the live feed and the history service both read them
    expect(await counted('stream_message')).toBe(before + 4);
  });

  it('skips a malformed access event in the live feed and in history, counts it, and passes the next', async () => {
    const before = await counted('access_event');
    const beforeMessages = await counted('stream_message');
    const got: AccessUpdate[] = [];
    let wake: () => void = () => undefined;
    const arrived = new Promise<void>((resolve) => (wake = resolve));
    const listening = bus.onAccessChange((update) => {
      got.push(update);
      wake();
    });
    const js = jetstream(raw);
    await js.publish('chat.access', 'not json');
    await js.publish('chat.access', JSON.stringify({ type: 'session_ended', sid: 5 }));
    await js.publish('chat.access', JSON.stringify({ type: 'no_such_event' }));
    // published by the history service (it answers once it applied the event)
    await service.accounts.endSession('sid-after', Date.now() + 60_000);
    await arrived;
    listening.unsubscribe();
    expect(got.map((update) => update.change)).toEqual([
      { type: 'session_ended', sid: 'sid-after', until: expect.any(Number) },
    ]);
    expect((await service.accounts.accessSnapshot()).ended_sessions).toContainEqual({
      sid: 'sid-after',
      until: got[0]!.change.type === 'session_ended' ? got[0]!.change.until : 0,
    });
    // twice each: the live feed and the history service both read them; not as chat messages
    expect(await counted('access_event')).toBe(before + 6);
    expect(await counted('stream_message')).toBe(beforeMessages);
  });
});
