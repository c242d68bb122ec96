/**
 * `GET /api/config`: the limits a client needs, read from the gateway's configuration (README,
 * "REST API").
 */
import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_ROOM_NAME_CHARS, MAX_USERNAME_CHARS } from '../../src/domain/message.ts';
import { ROOT, startTestChat } from '../helpers/chat-server.ts';
import type { TestChat } from '../helpers/chat-server.ts';

const chats: TestChat[] = [];

afterEach(async () => {
  await Promise.all(chats.splice(0).map((chat) => chat.close()));
});

async function start(env: Record<string, string> = {}): Promise<TestChat> {
  const chat = await startTestChat(env);
  chats.push(chat);
  return chat;
}

describe('GET /api/config', () => {
  it("answers the server's defaults", async () => {
    const chat = await start();
    const response = await fetch(`${chat.url}/api/config`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('application/json');
    expect(await response.json()).toEqual({
      max_message_chars: 4000,
      max_username_chars: 32,
      max_room_name_chars: 64,
      history_replay: 50,
      rate_limit: 20,
    });
  });

  it('follows MAX_MESSAGE_CHARS, HISTORY_REPLAY and RATE_LIMIT', async () => {
    const chat = await start({ MAX_MESSAGE_CHARS: '10', HISTORY_REPLAY: '7', RATE_LIMIT: '0' });
    const response = await fetch(`${chat.url}/api/config`);
    expect(await response.json()).toEqual({
      max_message_chars: 10,
      max_username_chars: MAX_USERNAME_CHARS,
      max_room_name_chars: MAX_ROOM_NAME_CHARS,
      history_replay: 7,
      rate_limit: 0,
    });
  });

  it('is in the OpenAPI document with its schema, and in the README', async () => {
    const chat = await start();
    const doc = (await (await fetch(`${chat.url}/openapi.json`)).json()) as {
      paths: Record<string, { get?: { responses: Record<string, unknown> } }>;
    };
    expect(doc.paths['/api/config']?.get?.responses['200']).toMatchObject({
      content: {
        'application/json': {
          schema: { type: 'object', required: expect.arrayContaining(['max_message_chars']) },
        },
      },
    });
    expect(fs.readFileSync(`${ROOT}/README.md`, 'utf8')).toContain('`GET /api/config`');
  });
});
