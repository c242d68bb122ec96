/**
 * Conversations, first part, in either mode: edits, deletes, reactions and replies, each a change
 * with a seq; catch-up with `since=` a seq gets the older messages that changed while away
 * (`updates`); deleted means gone (REST, replay, the transcript, every file the deployment
 * writes, in NATS mode the stream's store too); a test for every refusal. In NATS mode the
 * clients of a test alternate between the two gateways and REST goes to the second: every
 * change crosses the stream.
 */
import fs from 'node:fs';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Message } from '../../src/domain/message.ts';
import type { ServerFrame } from '../../src/protocol.ts';
import type { FrameOf } from '../../src/web/protocol.js';
import { startDeployment } from '../helpers/deployment.ts';
import type { Deployment, Mode } from '../helpers/deployment.ts';
import { eventually } from '../helpers/eventually.ts';
import {
  allMessages,
  asTranscript,
  createRoom,
  readTranscript,
  filesUnder,
} from '../helpers/history.ts';
import { ChatClient } from '../helpers/ws-client.ts';

const wsOf = (url: string) => url.replace(/^http/, 'ws');

/** Sends a change frame and waits for its ack or error (by client_id). */
export async function change(
  client: ChatClient,
  frame: Record<string, unknown>,
  clientId = `c-${randomUUID()}`,
): Promise<FrameOf<'ack'> | FrameOf<'error'>> {
  client.send({ ...frame, client_id: clientId });
  const answer = await client.until(
    (f) => (f.type === 'ack' || f.type === 'error') && f.client_id === clientId,
    15_000,
    `the answer to ${JSON.stringify(frame)}`,
  );
  return answer as FrameOf<'ack'> | FrameOf<'error'>;
}

/** `change`, which must be acknowledged. */
async function acked(client: ChatClient, frame: Record<string, unknown>): Promise<FrameOf<'ack'>> {
  const answer = await change(client, frame);
  if (answer.type !== 'ack') throw new Error(`refused: ${JSON.stringify(answer)}`);
  return answer;
}

export function conversationSuite(mode: Mode): void {
  let deployment: Deployment;
  const clients: ChatClient[] = [];
  let joins = 0;

  beforeAll(async () => {
    deployment = await startDeployment(mode, {
      RATE_LIMIT: '0',
      ROOM_CREATE_LIMIT: '0',
      EDIT_WINDOW: '1h',
    });
  }, 90_000);

  afterAll(async () => {
    for (const client of clients) client.close();
    await deployment?.close();
  });

  /** Joins through the gateways in turn. */
  async function join(room: number, username: string, query = '') {
    const url = deployment.urls[joins++ % deployment.urls.length]!;
    const joined = await ChatClient.join(
      `${wsOf(url)}/ws/${room}?username=${username}${query ? `&${query}` : ''}`,
    );
    clients.push(joined.client);
    return joined;
  }

  async function api(pathname: string) {
    const response = await fetch(deployment.urls.at(-1)! + pathname);
    return { status: response.status, body: (await response.json()) as unknown };
  }

  describe('one order', () => {
    it('an edit, reaction, reply and delete reach every client in seq order', async () => {
      const room = await createRoom(deployment.urls[0]!, 'changes');
      const { client: ann } = await join(room, 'ann');
      const { client: bob } = await join(room, 'bob');
      const first = await ann.say('helo');
      const edit = await change(ann, { type: 'edit', id: first.id, text: 'hello' });
      expect(edit).toMatchObject({ type: 'ack', id: first.id });
      const editSeq = (edit as FrameOf<'ack'>).seq;
      expect(await bob.until((f) => f.type === 'edit')).toMatchObject({
        id: first.id,
        seq: editSeq,
        text: 'hello',
      });
      const react = (await change(bob, {
        type: 'react',
        id: first.id,
        emoji: '👍',
        on: true,
      })) as FrameOf<'ack'>;
      expect(await ann.until((f) => f.type === 'reaction')).toMatchObject({
        seq: react.seq,
        count: 1,
      });
      const reply = (await change(bob, {
        type: 'message',
        text: 're',
        reply_to: first.id,
      })) as FrameOf<'ack'>;
      expect(reply.type).toBe('ack');
      expect((await api(`/api/servers/${room}/messages/${reply.id}`)).body).toMatchObject({
        reply_to: first.id,
        quote: { username: 'ann', text: 'hello' },
      });
      expect(await change(bob, { type: 'edit', id: first.id, text: 'mine' })).toMatchObject({
        code: 'forbidden',
      });
      expect(await change(bob, { type: 'message', text: 'x', reply_to: 999_999 })).toMatchObject({
        code: 'bad_reply',
      });
      // a resend of an edit with its client_id: the same ack, no second change
      const once = await change(ann, { type: 'edit', id: first.id, text: 'again' }, 'edit-1');
      expect(await change(ann, { type: 'edit', id: first.id, text: 'twice' }, 'edit-1')).toEqual(
        once,
      );
      const del = (await change(ann, { type: 'delete', id: first.id })) as FrameOf<'ack'>;
      expect(await bob.until((f) => f.type === 'delete')).toEqual({
        type: 'delete',
        id: first.id,
        seq: del.seq,
      });
      expect(await api(`/api/servers/${room}/messages/${first.id}`)).toMatchObject({
        status: 404,
      });
      // the seqs every client saw, in one order
      const seqs = bob.frames
        .filter(
          (f) =>
            f.type === 'edit' ||
            f.type === 'reaction' ||
            f.type === 'delete' ||
            f.type === 'message',
        )
        .map((f) => ('seq' in f ? f.seq : 0));
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));

      // a client of B that was away gets what changed
      const late = await join(room, 'carl', `since=${first.id}`);
      expect(late.history.updates).toEqual([
        expect.objectContaining({ id: first.id, deleted: true, seq: del.seq }),
      ]);
      expect(late.history.messages.map((m) => m.id)).toEqual([reply.id]);
      expect(late.history.messages[0]).not.toHaveProperty('quote');
    });
  });

  describe('reading your writes', () => {
    it('a message or reply acked is in REST at once on any gateway, and can be changed or replied to', async () => {
      const room = await createRoom(deployment.urls[0]!, 'read-your-writes');
      const { client } = await join(room, 'ann');
      const { client: busy } = await join(room, 'bob');
      const first = await client.say('first');
      for (let i = 0; i < 20; i++) {
        // a backlog for storage to work through before this message, sent without waiting
        for (let j = 0; j < 100; j++) busy.send({ type: 'message', text: `backlog ${i}.${j}` });
        const frame =
          i % 2 === 0
            ? { type: 'message', text: `plain ${i}` }
            : { type: 'message', text: `reply ${i}`, reply_to: first.id };
        const ack = await acked(client, frame);
        expect((await api(`/api/servers/${room}/messages/${ack.id}`)).status, `#${i}`).toBe(200);
        const page = (await api(`/api/servers/${room}/messages?after=${ack.id - 1}&limit=1`))
          .body as Message[];
        expect(page.map((m) => m.id)).toEqual([ack.id]);
        // and a change to it, or a reply to it, sent at once, finds it
        const next =
          i % 2 === 0
            ? { type: 'edit', id: ack.id, text: `edited ${i}` }
            : {
                type: 'message',
                text: `re ${i}`,
                reply_to: ack.id,
              };
        expect(await change(client, next), `#${i}`).toMatchObject({ type: 'ack' });
      }
    });
  });

  describe('edits', () => {
    it('reach everyone with a new seq, change REST, and are refused to others, unknown ids and bad text', async () => {
      const room = await createRoom(deployment.urls[0]!, 'edits');
      const { client: ann } = await join(room, 'ann');
      const { client: bob } = await join(room, 'bob');
      const sent = await ann.say('helo');
      await bob.next('message');
      const ack = await change(ann, { type: 'edit', id: sent.id, text: 'hello' });
      expect(ack).toMatchObject({ type: 'ack', id: sent.id });
      const seq = (ack as FrameOf<'ack'>).seq;
      expect(seq).toBeGreaterThan(sent.id);
      for (const client of [ann, bob]) {
        expect(await client.next('edit')).toEqual({
          type: 'edit',
          id: sent.id,
          seq,
          text: 'hello',
          edited_at: expect.stringMatching(/Z$/),
        });
      }
      expect((await api(`/api/servers/${room}/messages/${sent.id}`)).body).toMatchObject({
        text: 'hello',
        seq,
        edited_at: expect.any(String),
      });
      expect(await change(bob, { type: 'edit', id: sent.id, text: 'mine' })).toMatchObject({
        type: 'error',
        code: 'forbidden',
      });
      expect(await change(ann, { type: 'edit', id: 999_999, text: 'x' })).toMatchObject({
        code: 'not_found',
      });
      expect(await change(ann, { type: 'edit', id: sent.id, text: '  ' })).toMatchObject({
        code: 'empty',
      });
      expect(
        await change(ann, { type: 'edit', id: sent.id, text: 'x'.repeat(4001) }),
      ).toMatchObject({
        code: 'too_long',
      });
      expect(await change(ann, { type: 'edit', id: '1', text: 'x' })).toMatchObject({
        code: 'bad_request',
      });
      // a resend with the same client_id changes nothing and gets the same ack
      ann.send({ type: 'edit', id: sent.id, text: 'once', client_id: 'edit-once' });
      const first = await ann.until((f) => f.type === 'ack' && f.client_id === 'edit-once');
      ann.send({ type: 'edit', id: sent.id, text: 'twice', client_id: 'edit-once' });
      const again = await ann.until((f) => f.type === 'ack' && f.client_id === 'edit-once');
      expect(again).toEqual(first);
      expect((await api(`/api/servers/${room}/messages/${sent.id}`)).body).toMatchObject({
        text: 'once',
      });
    });

    it('are refused past EDIT_WINDOW with edit_window', async () => {
      const strict = await startDeployment(mode, { RATE_LIMIT: '0', EDIT_WINDOW: '1ms' });
      try {
        const { client } = await ChatClient.join(`${wsOf(strict.urls[0]!)}/ws/1?username=ann`);
        const sent = await client.say('typo');
        // the window is time itself: let more than it pass
        await new Promise((resolve) => setTimeout(resolve, 20));
        expect(await change(client, { type: 'edit', id: sent.id, text: 'fixed' })).toMatchObject({
          code: 'edit_window',
        });
        client.close();
      } finally {
        await strict.close();
      }
    });
  });

  describe('deletes', () => {
    it('leave a tombstone: gone from REST pages, one-message answers and quotes; the author only', async () => {
      const room = await createRoom(deployment.urls[0]!, 'deletes');
      const { client: ann } = await join(room, 'ann');
      const { client: bob } = await join(room, 'bob');
      const keep = await ann.say('keep');
      const gone = await ann.say('gone soon');
      const reply = await acked(bob, { type: 'message', text: 'answering', reply_to: gone.id });
      expect((await api(`/api/servers/${room}/messages/${reply.id}`)).body).toMatchObject({
        reply_to: gone.id,
        quote: { username: 'ann', text: 'gone soon' },
      });
      expect(await change(bob, { type: 'delete', id: gone.id })).toMatchObject({
        code: 'forbidden',
      });
      const ack = (await change(ann, { type: 'delete', id: gone.id })) as FrameOf<'ack'>;
      expect(await bob.until((f) => f.type === 'delete')).toEqual({
        type: 'delete',
        id: gone.id,
        seq: ack.seq,
      });
      const page = (await api(`/api/servers/${room}/messages`)).body as Array<{ id: number }>;
      expect(page.map((m) => m.id)).toEqual([keep.id, reply.id]);
      expect(await api(`/api/servers/${room}/messages/${gone.id}`)).toMatchObject({
        status: 404,
        body: { code: 'not_found' },
      });
      const answer = (await api(`/api/servers/${room}/messages/${reply.id}`)).body;
      expect(answer).toMatchObject({ reply_to: gone.id });
      expect(answer).not.toHaveProperty('quote');
      expect(await change(ann, { type: 'delete', id: gone.id })).toMatchObject({
        code: 'not_found',
      });
      expect(await change(ann, { type: 'edit', id: gone.id, text: 'back' })).toMatchObject({
        code: 'not_found',
      });
      expect(
        await change(bob, { type: 'message', text: 'to nothing', reply_to: gone.id }),
      ).toMatchObject({
        code: 'bad_reply',
      });
      const changed = (await api(`/api/servers/${room}/messages?changed_after=${reply.id}`)).body;
      expect(changed).toEqual([
        {
          id: gone.id,
          server_id: room,
          username: 'ann',
          ts: expect.any(String),
          seq: ack.seq,
          deleted: true,
        },
      ]);
    });

    it('are gone from every file under DATA_DIR within 60 s; the transcript shows the tombstone', async () => {
      const marker = `secret-${randomUUID()}`;
      const room = await createRoom(deployment.urls[0]!, 'erasure');
      const { client } = await join(room, 'ann');
      const before = await client.say('before');
      const sent = await client.say(`my password is ${marker}`);
      await change(client, { type: 'edit', id: sent.id, text: `still ${marker}` });
      const after = await client.say('after');
      await change(client, { type: 'delete', id: sent.id });
      const holding = () =>
        deployment.dirs
          .flatMap((dir) => filesUnder(dir))
          .filter((file) => fs.readFileSync(file).includes(marker));
      expect(await eventually(holding, (files) => files.length === 0, 60_000)).toEqual([]);
      const lines = await eventually(
        () => readTranscript(deployment.historyDir, room),
        (read) => read.length === 3 && 'deleted' in read[1]!,
        5_000,
      );
      expect(lines.map((line) => line.id)).toEqual([before.id, sent.id, after.id]);
      expect(lines[1]).toEqual({
        id: sent.id,
        server_id: room,
        username: 'ann',
        ts: expect.any(String),
        deleted: true,
      });
    });
  });

  describe('reactions', () => {
    it('toggle per user and emoji, count, set twice changes nothing, and refuse what is not one emoji', async () => {
      const room = await createRoom(deployment.urls[0]!, 'reactions');
      const { client: ann } = await join(room, 'ann');
      const { client: bob } = await join(room, 'bob');
      const sent = await ann.say('ship it?');
      const on = (await change(bob, {
        type: 'react',
        id: sent.id,
        emoji: '👍',
        on: true,
      })) as FrameOf<'ack'>;
      expect(await ann.until((f) => f.type === 'reaction')).toEqual({
        type: 'reaction',
        id: sent.id,
        seq: on.seq,
        emoji: '👍',
        username: 'bob',
        on: true,
        count: 1,
      });
      // already so: the same seq, no frame
      expect(
        await change(bob, { type: 'react', id: sent.id, emoji: '👍', on: true }),
      ).toMatchObject({
        type: 'ack',
        seq: on.seq,
      });
      await change(ann, { type: 'react', id: sent.id, emoji: '🎉', on: true });
      await change(ann, { type: 'react', id: sent.id, emoji: '👍', on: true });
      expect((await api(`/api/servers/${room}/messages/${sent.id}`)).body).toMatchObject({
        reactions: [
          { emoji: '👍', count: 2, users: ['bob', 'ann'] },
          { emoji: '🎉', count: 1, users: ['ann'] },
        ],
      });
      await change(bob, { type: 'react', id: sent.id, emoji: '👍', on: false });
      await change(ann, { type: 'react', id: sent.id, emoji: '👍', on: false });
      expect((await api(`/api/servers/${room}/messages/${sent.id}`)).body).toMatchObject({
        reactions: [{ emoji: '🎉', count: 1, users: ['ann'] }],
      });
      for (const emoji of ['a', '👍👍', ':)', '']) {
        expect(
          await change(ann, { type: 'react', id: sent.id, emoji, on: true }),
          emoji,
        ).toMatchObject({
          code: 'bad_emoji',
        });
      }
      expect(
        await change(ann, { type: 'react', id: sent.id, emoji: '👍', on: 'yes' }),
      ).toMatchObject({
        code: 'bad_request',
      });
    });

    it('stop at 20 distinct emoji per message with too_many_reactions', async () => {
      const room = await createRoom(deployment.urls[0]!, 'many-reactions');
      const { client } = await join(room, 'ann');
      const sent = await client.say('react to me');
      const emoji = [...'😀😁😂🤣😃😄😅😆😉😊😋😎😍😘🥰😗😙🥲😚🙂🤗'];
      for (const one of emoji.slice(0, 20)) {
        expect(
          await change(client, { type: 'react', id: sent.id, emoji: one, on: true }),
        ).toMatchObject({
          type: 'ack',
        });
      }
      expect(
        await change(client, { type: 'react', id: sent.id, emoji: emoji[20], on: true }),
      ).toMatchObject({ code: 'too_many_reactions' });
    });
  });

  describe('catching up with since=', () => {
    it('gets the new messages and the older ones changed while away, in seq order, tombstones too', async () => {
      const room = await createRoom(deployment.urls[0]!, 'catch-up');
      const { client: writer } = await join(room, 'ann');
      const a = await writer.say('a');
      const b = await writer.say('b');
      const c = await writer.say('c');
      const { client: reader, history } = await join(room, 'bob');
      const position = history.last_seq;
      reader.close();
      await change(writer, { type: 'edit', id: b.id, text: 'b2' });
      await change(writer, { type: 'delete', id: a.id });
      await change(writer, { type: 'react', id: c.id, emoji: '👀', on: true });
      const d = await writer.say('d');

      const back = await join(room, 'bob', `since=${position}`);
      const frame = back.history;
      expect(frame.messages.map((m) => m.id)).toEqual([d.id]);
      expect(frame.updates.map((m) => m.id)).toEqual([b.id, a.id, c.id]);
      expect(frame.updates[1]).toMatchObject({ id: a.id, deleted: true });
      expect(frame.updates[0]).toMatchObject({ id: b.id, text: 'b2' });
      expect(frame.updates[2]).toMatchObject({ reactions: [{ emoji: '👀', count: 1 }] });
      expect(frame.last_seq).toBe(d.seq);
      // a client that knows only message ids still gets every newer message
      const old = await join(room, 'carl', `since=${c.id}`);
      expect(old.history.messages.map((m) => m.id)).toEqual([d.id]);
      // the transcript follows: every line equal to REST, the tombstone in its place
      const rest = await allMessages(deployment.urls[0]!, room);
      await eventually(
        () => readTranscript(deployment.historyDir, room),
        (lines) => lines.length === 4 && lines.some((line) => 'deleted' in line),
        5_000,
      );
      const lines = readTranscript(deployment.historyDir, room);
      expect(lines.filter((line) => !('deleted' in line))).toEqual(asTranscript(rest));
    });
  });

  describe('catching up past the bound', () => {
    it('sends 1000 updates with more_updates: true; REST changed_after= pages the rest', async () => {
      const room = await createRoom(deployment.urls[0]!, 'many-updates');
      const { client } = await join(room, 'ann');
      const ids: number[] = [];
      for (let i = 0; i < 1001; i++)
        client.send({ type: 'message', text: `m${i}`, client_id: `m${i}` });
      for (let i = 0; i < 1001; i++) {
        const ack = await client.until((f) => f.type === 'ack' && f.client_id === `m${i}`, 60_000);
        ids.push((ack as FrameOf<'ack'>).id);
      }
      const position = ids[1000]!;
      for (const [i, id] of ids.entries()) {
        client.send({ type: 'edit', id, text: `e${i}`, client_id: `e${i}` });
      }
      // The last edit reaches the room once every edit before it is applied (one order). Its
      // ack may be an \`unavailable\` error instead: in NATS mode the history service takes a
      // room's changes one at a time, and a thousand queued at once can outlast the gateway's
      // NATS_REQUEST_TIMEOUT, though each is applied (a resend would get its ack).
      await client.until((f) => f.type === 'edit' && f.id === ids[1000], 60_000);
      const { history } = await join(room, 'bob', `since=${position}`);
      expect(history.messages).toEqual([]);
      expect(history.updates).toHaveLength(1000);
      expect(history.more_updates).toBe(true);
      const lastUpdate = history.updates.at(-1)!.seq;
      const rest = (await api(`/api/servers/${room}/messages?changed_after=${lastUpdate}`))
        .body as Array<{ id: number; text: string }>;
      expect(rest).toEqual([expect.objectContaining({ id: ids[1000], text: 'e1000' })]);
      const seen = [...history.updates.map((m) => m.id), ...rest.map((m) => m.id)];
      expect(new Set(seen)).toEqual(new Set(ids));
    }, 120_000);
  });

  describe('joining while changes flow', () => {
    /** A client's view of a room, merged by the contract's rule: a change applies above the seq held. */
    type Held = { text: string; seq: number; reactions: Map<string, number>; deleted: boolean };
    function hold(message: Message): Held {
      const reactions = new Map((message.reactions ?? []).map((r) => [r.emoji, r.count] as const));
      return { text: message.text, seq: message.seq, reactions, deleted: false };
    }
    function apply(view: Map<number, Held>, frame: ServerFrame): void {
      if (frame.type === 'message') {
        if (!view.has(frame.id)) view.set(frame.id, hold(frame));
        return;
      }
      if (frame.type !== 'edit' && frame.type !== 'reaction' && frame.type !== 'delete') return;
      const held = view.get(frame.id);
      if (!held || frame.seq <= held.seq) return;
      held.seq = frame.seq;
      if (frame.type === 'edit') held.text = frame.text;
      else if (frame.type === 'delete') held.deleted = true;
      else if (frame.count === 0) held.reactions.delete(frame.emoji);
      else held.reactions.set(frame.emoji, frame.count);
    }

    it('every joiner ends with the room’s state: no change missed or applied twice', async () => {
      const room = await createRoom(deployment.urls[0]!, 'join-during-changes');
      const { client: writer } = await join(room, 'writer');
      const ids: number[] = [];
      for (let i = 0; i < 20; i++) ids.push((await writer.say(`m${i}`)).id);
      const emoji = ['👍', '🎉', '👀'];
      const joiners: Array<Promise<{ client: ChatClient; view: Map<number, Held> }>> = [];
      const total = 240;
      for (let i = 0; i < total; i++) {
        const id = ids[(i * 7) % ids.length]!;
        const frame =
          i % 4 === 0
            ? { type: 'edit', id, text: `edit ${i}` }
            : i % 4 === 3 && i % 40 === 39
              ? { type: 'delete', id }
              : i % 4 === 2
                ? { type: 'message', text: `new ${i}` }
                : { type: 'react', id, emoji: emoji[i % 3], on: i % 8 < 4 };
        writer.send({ ...frame, client_id: `w${i}` });
        if (i % 40 === 20) {
          joiners.push(
            (async () => {
              const { client, history } = await join(room, `j${i}`, 'since=0');
              const view = new Map(history.messages.map((m) => [m.id, hold(m)] as const));
              return { client, view };
            })(),
          );
        }
      }
      const joined = await Promise.all(joiners);
      // Every change answered, then a last message, which comes after them all. (Answered first:
      // in NATS mode a plain message goes to the stream at once, while changes wait their turn
      // to be judged by the history service, so a message sent after a change may precede it.)
      for (let i = 0; i < total; i++) {
        await writer.until(
          (f) => (f.type === 'ack' || f.type === 'error') && f.client_id === `w${i}`,
          15_000,
        );
      }
      const lastSeq = (await writer.say('end')).seq;
      const rest = await allMessages(deployment.urls[0]!, room);
      const expected = new Map(rest.map((m) => [m.id, hold(m)] as const));
      for (const { client, view } of joined) {
        // every live frame up to the writer's last change, applied in arrival order
        for (;;) {
          const frame = await client.until(() => true, 10_000, 'the rest of the changes');
          apply(view, frame);
          if ('seq' in frame && frame.seq >= lastSeq) break;
        }
        for (const [id, held] of view) if (held.deleted) view.delete(id);
        expect(
          new Map([...view].map(([id, h]) => [id, [h.text, h.seq, [...h.reactions]]])),
        ).toEqual(new Map([...expected].map(([id, h]) => [id, [h.text, h.seq, [...h.reactions]]])));
      }
    });
  });
}
