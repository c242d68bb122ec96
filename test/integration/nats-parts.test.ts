/**
 * History answers in parts (src/nats/parts.ts) against a real nats-server with a small
 * max_payload: the asker is the gateway's NatsHistoryClient, the responders speak the wire format
 * by hand to play a history service that answers whole, dies mid-answer, or sends parts out of
 * order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { connect, headers } from '@nats-io/transport-node';
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import { connectNats } from '../../src/nats/connection.ts';
import type { NatsLink } from '../../src/nats/connection.ts';
import { NatsHistoryClient } from '../../src/bus/nats/nats-history-client.ts';
import { PART_HEADER, respondInParts } from '../../src/nats/parts.ts';
import { UnavailableError } from '../../src/errors.ts';
import { internalErrors } from '../../src/internal-errors.ts';
import { TestNatsServer } from '../helpers/nats-server.ts';

const MAX_PAYLOAD = 8 * 1024;
const TIMEOUT_MS = 1000;

let nats: TestNatsServer;
let link: NatsLink;
let responder: NatsConnection;
let client: NatsHistoryClient;
let answering: Subscription | undefined;

/** Answers `chatroom.history.rooms` (the queue group of the history service) with `respond`. */
function answerRooms(respond: (msg: Msg) => void): Promise<void> {
  answering?.unsubscribe();
  answering = responder.subscribe('chatroom.history.rooms', {
    queue: 'history',
    callback: (_error, msg) => respond(msg),
  });
  return responder.flush();
}

async function counted(where: 'history_reply'): Promise<number> {
  const { values } = await internalErrors.get();
  return values.find((value) => value.labels.where === where)?.value ?? 0;
}

function part(index: number, parts: number) {
  const marked = headers();
  marked.set(PART_HEADER, `${index}/${parts}`);
  return { headers: marked };
}

beforeAll(async () => {
  nats = await TestNatsServer.start({ maxPayload: MAX_PAYLOAD });
  link = await connectNats(nats.url, 'asker', pino({ level: 'silent' }));
  responder = await connect({ servers: nats.url });
  client = new NatsHistoryClient(link, TIMEOUT_MS);
}, 30_000);

afterAll(async () => {
  await responder?.close();
  await link?.close();
  await nats?.stop();
});

describe('history answers over NATS, in parts', () => {
  it('joins an answer forty times max_payload whose every message fits the server', async () => {
    const rooms = Array.from({ length: 1000 }, (_, id) => ({
      id,
      name: '\u{1F600}'.repeat(64),
      created_at: '2026-11-23T22:51:43.123Z',
      private: false,
      dm: false,
      archived: false,
      owner: null,
    }));
    const sizes: number[] = [];
    // every reply goes to an inbox: watch them all
    const watch = responder.subscribe('_INBOX.>', {
      callback: (_error, msg) => {
        sizes.push(msg.data.length);
      },
    });
    await answerRooms((msg) =>
      respondInParts(responder, msg, JSON.stringify({ ok: true, result: rooms })),
    );
    expect(await client.listRooms(null, false)).toEqual(rooms);
    await responder.flush();
    watch.unsubscribe();
    expect(sizes.length).toBeGreaterThan(40);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(MAX_PAYLOAD);
  });

  it('answers a small answer in one part', async () => {
    await answerRooms((msg) => respondInParts(responder, msg, '{"ok":true,"result":[]}'));
    expect(await client.listRooms(null, false)).toEqual([]);
  });

  it('fails with unavailable within the request timeout when the responder dies mid-answer', async () => {
    await answerRooms((msg) => msg.respond('{"ok":true,"result":[{"id":1,', part(1, 3)));
    const started = performance.now();
    await expect(client.listRooms(null, false)).rejects.toBeInstanceOf(UnavailableError);
    // it waited for the missing parts, but not past the request timeout
    expect(performance.now() - started).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
  });

  it('fails with unavailable when parts arrive out of order or unmarked', async () => {
    await answerRooms((msg) => {
      msg.respond('[]}', part(2, 2));
      msg.respond('{"ok":true,"result":', part(1, 2));
    });
    await expect(client.listRooms(null, false)).rejects.toBeInstanceOf(UnavailableError);
    await answerRooms((msg) => msg.respond('{"ok":true,"result":[]}'));
    await expect(client.listRooms(null, false)).rejects.toBeInstanceOf(UnavailableError);
  });

  it('fails with unavailable, and counts it, when a whole answer is malformed', async () => {
    const before = await counted('history_reply');
    for (const answer of [
      '{"ok":true,"result":[{"id":"1","name":"x","created_at":"t"}]}',
      '{"ok":true}',
      '{"ok":false,"code":503}',
      'not json',
    ]) {
      await answerRooms((msg) => respondInParts(responder, msg, answer));
      await expect(client.listRooms(null, false), answer).rejects.toBeInstanceOf(UnavailableError);
    }
    expect(await counted('history_reply')).toBe(before + 4);
  });

  it('fails with unavailable at once when no history service listens', async () => {
    answering?.unsubscribe();
    await responder.flush();
    await expect(client.listRooms(null, false)).rejects.toBeInstanceOf(UnavailableError);
  });
});
