/**
 * An error nobody caught (an unhandled rejection, an uncaught exception) is logged and counted in
 * `chatroom_internal_errors_total`, and the process goes on serving (issue 7, section 7).
 */
import { afterAll, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { spawnChat, tempDir } from '../helpers/chat-server.ts';
import type { ChatProcess } from '../helpers/chat-server.ts';
import { eventually } from '../helpers/eventually.ts';

const FAULTS = fileURLToPath(new URL('../fixtures/inject-faults.mjs', import.meta.url));
let chat: ChatProcess | undefined;

afterAll(async () => {
  await chat?.stop('SIGKILL');
});

it('logs and counts an unhandled rejection and an uncaught exception, and serves on', async () => {
  chat = await spawnChat({ DATA_DIR: tempDir(), NODE_OPTIONS: `--import=${FAULTS}` });
  const metrics = await eventually(
    async () => (await fetch(`${chat!.url}/metrics`)).text(),
    (text) =>
      /^chatroom_internal_errors_total\{where="unhandled_rejection"\} 1$/m.test(text) &&
      /^chatroom_internal_errors_total\{where="uncaught_exception"\} 1$/m.test(text),
    20_000,
  );
  expect(metrics).toContain('# TYPE chatroom_internal_errors_total counter');
  expect(chat.output()).toContain('fault: a rejection nobody handles');
  expect(chat.output()).toContain('fault: an exception nobody catches');
  const rooms = await fetch(`${chat.url}/api/servers`);
  expect(rooms.status).toBe(200);
  expect(await chat.stop('SIGTERM')).toBe(0);
}, 60_000);
