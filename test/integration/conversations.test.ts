/**
 * Conversations, first part, in embedded mode (the suite in conversations-suite.ts), and what
 * only accounts decide: who may delete others' messages.
 */
import { describe, expect, it } from 'vitest';
import { ApiClient, startAccountsChat } from '../helpers/accounts.ts';
import { change, conversationSuite } from './conversations-suite.ts';

describe('conversations (embedded mode)', () => {
  conversationSuite('embedded');
});

describe('in accounts mode', () => {
  it('an admin deletes anyone’s message, the owner of a private room its members’', async () => {
    const chat = await startAccountsChat();
    try {
      const owner = await chat.newUser('olive');
      const member = await chat.newUser('mona');
      const room = (await owner.post('/api/servers', { name: 'own', private: true })).body
        .id as number;
      await owner.post(`/api/servers/${room}/members`, { username: 'mona' });
      const { client: mona } = await member.join(room);
      const first = await mona.say('one');
      const second = await mona.say('two');
      const { client: root } = await chat.admin.join(room);
      const { client: olive } = await owner.join(room);
      expect(await change(olive, { type: 'delete', id: first.id })).toMatchObject({ type: 'ack' });
      expect(await change(root, { type: 'delete', id: second.id })).toMatchObject({ type: 'ack' });
      // the room's owner may delete, not edit
      const third = await mona.say('three');
      expect(await change(olive, { type: 'edit', id: third.id, text: 'x' })).toMatchObject({
        code: 'forbidden',
      });
      for (const client of [mona, root, olive]) client.close();
      expect(await new ApiClient(chat.server.url).get('/api/servers')).toMatchObject({
        status: 401,
      });
    } finally {
      await chat.server.close();
    }
  });
});
