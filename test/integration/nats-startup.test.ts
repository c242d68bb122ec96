/** Starting in NATS mode while no NATS server answers: say so, stay observable, give up clearly. */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ROOT, TEST_AUTH, tempDir } from '../helpers/chat-server.ts';
import { freePort } from '../helpers/nats-server.ts';

/** Starts `src/main.ts` and resolves with its URL once it says it is waiting for NATS. */
async function startWaiting(env: Record<string, string>, args: string[] = []) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      AUTH: TEST_AUTH,
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  const waiting = await new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no waiting line in 30 s:\n${stdout}`)),
      30_000,
    );
    child.stdout.on('data', () => {
      const match = /^chatroom .*waiting for NATS at (\S+).*$/m.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve(match);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before waiting:\n${stdout}${stderr}`));
    });
  });
  const url = /(http:\/\/\S+)\/healthz/.exec(waiting[0])?.[1]?.replace('localhost', '127.0.0.1');
  return { child, exited, waiting: waiting[0], url, stderr: () => stderr };
}

describe('NATS_URL that no server answers', () => {
  it('listens meanwhile (healthz 200, readyz and the API 503) and exits 0 on SIGTERM', async () => {
    const natsUrl = `nats://127.0.0.1:${await freePort()}`;
    const chat = await startWaiting({
      NATS_URL: natsUrl,
      DATA_DIR: tempDir(),
      NATS_CONNECT_TIMEOUT: '0',
    });
    expect(chat.waiting).toContain(natsUrl);
    expect(chat.waiting).not.toMatch(/gives up/);
    expect((await fetch(`${chat.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${chat.url}/readyz`)).status).toBe(503);
    expect((await fetch(`${chat.url}/api/servers`)).status).toBe(503);
    chat.child.kill('SIGTERM');
    expect(await chat.exited).toBe(0);
  });

  it('gives up after NATS_CONNECT_TIMEOUT: exit 2, one line naming NATS_URL and how long it waited', async () => {
    const natsUrl = `nats://127.0.0.1:${await freePort()}`;
    const chat = await startWaiting({
      NATS_URL: natsUrl,
      DATA_DIR: tempDir(),
      NATS_CONNECT_TIMEOUT: '2s',
    });
    expect(chat.waiting).toMatch(/gives up after 2 s/);
    const waitingSince = Date.now();
    expect(await chat.exited).toBe(2);
    expect(Date.now() - waitingSince).toBeGreaterThanOrEqual(1000);
    const lines = chat.stderr().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      new RegExp(`^chatroom: NATS_URL: no NATS server answered at ${natsUrl} within 2 s`),
    );
  });

  it('a history service alone gives up the same way', async () => {
    const natsUrl = `nats://127.0.0.1:${await freePort()}`;
    const chat = await startWaiting(
      { NATS_URL: natsUrl, DATA_DIR: tempDir(), NATS_CONNECT_TIMEOUT: '2s' },
      ['history'],
    );
    expect(chat.url).toBeUndefined();
    expect(await chat.exited).toBe(2);
    expect(chat.stderr()).toMatch(/^chatroom: NATS_URL: no NATS server answered at /);
  });
});
