/**
 * The client library's edits, deletes, reactions and replies (src/web/connection.js, changes.js)
 * against a real chat server (embedded mode): each promise settles with its ack, every
 * connection of the room merges the frames, and a refusal rejects with its code.
 */
import { describe, expect, it } from 'vitest';
import { ChangeRefused } from '../../src/web/changes.js';
import { whenSent } from '../../src/web/outbox.js';
import { connectionTestbed, nextEvent, testNetwork } from '../helpers/web-connection.ts';

const { startChat, connection, joined } = connectionTestbed();

describe('changes through the connection', () => {
  it('replies, edits, reacts and deletes, each acked, and both sides hold the same messages', async () => {
    const chat = await startChat();
    const alice = connection(chat, testNetwork());
    const bob = connection(chat, testNetwork());
    await joined(alice, 'alice');
    await joined(bob, 'bob');

    const original = await whenSent(alice, alice.send('where is the plan?'));
    const bobSees = nextEvent(bob, 'message', (m) => m.reply_to === original.id);
    const reply = await whenSent(bob, bob.send('here', { replyTo: original.id }));
    expect((await bobSees).quote).toEqual({ username: 'alice', text: 'where is the plan?' });

    const quoteEdited = nextEvent(bob, 'update', (m) => m.id === reply.id);
    const edited = await alice.edit(original.id, 'where is the new plan?');
    expect(edited.id).toBe(original.id);
    expect((await quoteEdited).quote?.text).toBe('where is the new plan?');
    expect(bob.message(original.id)).toMatchObject({
      text: 'where is the new plan?',
      seq: edited.seq,
    });
    expect(bob.message(original.id)?.edited_at).toBeTypeOf('string');

    const reacted = nextEvent(alice, 'update', (m) => m.id === reply.id && !!m.reactions);
    await bob.react(reply.id, '👍', true);
    expect((await reacted).reactions).toEqual([{ emoji: '👍', count: 1, users: ['bob'] }]);
    const unreacted = nextEvent(alice, 'update', (m) => m.id === reply.id && !m.reactions);
    await bob.react(reply.id, '👍', false);
    await unreacted;

    const refused = await alice.edit(reply.id, 'not mine').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ChangeRefused);
    expect((refused as ChangeRefused).code).toBe('forbidden');

    const gone = nextEvent(bob, 'delete', ({ id }) => id === original.id);
    const quoteGone = nextEvent(bob, 'update', (m) => m.id === reply.id && !m.quote);
    const deleted = await alice.deleteMessage(original.id);
    await gone;
    await quoteGone;
    expect(bob.message(original.id)).toBeUndefined();
    expect(alice.position).toBeGreaterThanOrEqual(deleted.seq);
  });
});
