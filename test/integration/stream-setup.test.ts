/**
 * The stream is (re)created above the store while gateways keep publishing: no publish may take a
 * sequence at or below a stored id (it would be purged by the move, or clash with a stored
 * message), and every acked message stays in the stream. And a room's newest sequence (what a
 * replay waits for) is 0 when it has none, or when the stream is gone.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import pino from 'pino';
import { connectNats } from '../../src/nats/connection.ts';
import type { NatsLink } from '../../src/nats/connection.ts';
import { ensureStream, lastSeqOf } from '../../src/nats/stream.ts';
import { STREAM, messageSubject } from '../../src/nats/subjects.ts';
import { TestNatsServer } from '../helpers/nats-server.ts';

let nats: TestNatsServer;
let links: NatsLink[];

beforeAll(async () => {
  nats = await TestNatsServer.start();
  const log = pino({ level: 'silent' });
  links = await Promise.all([0, 1, 2, 3].map((i) => connectNats(nats.url, `setup-${i}`, log)));
}, 60_000);

afterAll(async () => {
  for (const link of links ?? []) await link.close();
  await nats?.stop();
});

it('a stream created above the store while gateways publish gives them only ids above it', async () => {
  const storedMaxId = 1000;
  const acked: number[] = [];
  let stop = false;
  const deadline = Date.now() + 30_000;
  // three gateways that publish as fast as the stream lets them, before and during its creation
  const publishers = links.slice(1).map(async (link, g) => {
    for (let i = 0; i < 5000 && !stop && Date.now() < deadline; i++) {
      try {
        const ack = await link.js.publish(messageSubject(1), JSON.stringify({ g, i }), {
          timeout: 1000,
        });
        acked.push(ack.seq);
      } catch {
        // no stream yet: publish again at once
      }
    }
  });
  await ensureStream(links[0]!.jsm, { maxAgeMs: 3_600_000, dedupeWindowMs: 60_000 }, storedMaxId);
  while (acked.length < 30 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  stop = true;
  await Promise.all(publishers);

  expect(acked.length).toBeGreaterThanOrEqual(30);
  expect(Math.min(...acked)).toBeGreaterThan(storedMaxId);
  const info = await links[0]!.jsm.streams.info(STREAM);
  expect(info.state.first_seq).toBe(storedMaxId + 1);
  expect(info.state.messages).toBe(acked.length);
}, 60_000);

it('answers a room’s newest sequence, 0 for a room without messages or without a stream', async () => {
  const { jsm, js } = links[0]!;
  await jsm.streams.delete(STREAM);
  expect(await lastSeqOf(jsm, 1)).toBe(0);
  await ensureStream(jsm, { maxAgeMs: 3_600_000, dedupeWindowMs: 60_000 }, 0);
  expect(await lastSeqOf(jsm, 1)).toBe(0);
  const first = await js.publish(messageSubject(1), '{}');
  await js.publish(messageSubject(2), '{}');
  expect(await lastSeqOf(jsm, 1)).toBe(first.seq);
  expect(await lastSeqOf(jsm, 3)).toBe(0);
});
