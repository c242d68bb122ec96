/**
 * The compiled build, as production runs it: `npm run build` writes dist/, and `node dist/main.js`
 * (plain Node, no tsx, no TypeScript at run time) serves REST, the page and WebSockets. And what
 * dist/ imports is in `dependencies`, so `npm ci --omit=dev` installs all it needs.
 *
 * With CHATROOM_DEPLOY_DIR set (as `.ci/run` does) it runs a built copy there instead, one whose
 * node_modules holds production dependencies only, as a deployment would.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, spawnChat, tempDir } from '../helpers/chat-server.ts';
import type { ChatProcess } from '../helpers/chat-server.ts';
import { ChatClient } from '../helpers/ws-client.ts';

const DEPLOYED = process.env.CHATROOM_DEPLOY_DIR;
const HOME = DEPLOYED ?? ROOT;
const DIST = path.join(HOME, 'dist');
/** A full build takes a few seconds on an idle machine; this bound is for a loaded one. */
const BUILD_MS = 180_000;

function filesUnder(dir: string, suffix: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith(suffix))
    .map((file) => path.join(dir, file));
}

/** The package a bare import specifier names: `fastify`, `@fastify/swagger`, not `./x.js`. */
function packageOf(specifier: string): string | undefined {
  if (specifier.startsWith('.') || specifier.startsWith('node:')) return undefined;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

describe('compiled build', () => {
  let chat: ChatProcess;

  beforeAll(async () => {
    if (DEPLOYED === undefined) {
      await promisify(execFile)('npm', ['run', 'build'], { cwd: ROOT, timeout: BUILD_MS });
    }
    chat = await spawnChat({ DATA_DIR: tempDir() }, [], [path.join(DIST, 'main.js')]);
  }, BUILD_MS + 30_000);

  afterAll(async () => {
    await chat?.stop('SIGKILL');
  });

  it('runs `node dist/main.js`: startup line, REST, the page and a WebSocket chat', async () => {
    expect(chat.output()).toMatch(/^chatroom embedded mode: listening on http:\/\/localhost:\d+ /m);

    const rooms = await fetch(`${chat.url}/api/servers`, { signal: AbortSignal.timeout(20_000) });
    expect(rooms.status).toBe(200);
    expect(await rooms.json()).toEqual([expect.objectContaining({ id: 1, name: 'general' })]);

    // the page, served from the build's copy: each file of src/web, byte for byte
    const web = path.join(ROOT, 'src/web');
    for (const file of ['.html', '.js', '.css'].flatMap((type) => filesUnder(web, type))) {
      const route = `/${path.relative(web, file).split(path.sep).join('/')}`;
      const page = await fetch(`${chat.url}${route}`, { signal: AbortSignal.timeout(20_000) });
      expect(page.status, route).toBe(200);
      expect(await page.text(), route).toBe(fs.readFileSync(file, 'utf8'));
    }

    const alice = ChatClient.connect(`${chat.wsUrl}/ws/1?username=alice`);
    await alice.next('history', 20_000);
    await alice.next('presence', 20_000);
    alice.send({ type: 'message', text: 'built, not transpiled', client_id: 'b1' });
    const message = await alice.next('message', 20_000);
    expect(message).toMatchObject({
      server_id: 1,
      username: 'alice',
      text: 'built, not transpiled',
    });
    expect(await alice.next('ack', 20_000)).toEqual({
      type: 'ack',
      client_id: 'b1',
      id: message.id,
      seq: message.id,
    });
    alice.close();
  });

  it('runs accounts mode by default, greets the first visitor with the admin account, and the operator commands', async () => {
    const dataDir = tempDir();
    const accounts = await spawnChat(
      { DATA_DIR: dataDir, AUTH: undefined },
      [],
      [path.join(DIST, 'main.js')],
    );
    try {
      const page = await (
        await fetch(accounts.url, { signal: AbortSignal.timeout(20_000) })
      ).text();
      expect(page).toContain('<meta name="chatroom-auth" content="accounts" />');
      expect(page).toContain('<meta name="chatroom-first-account" content="true" />');
      const register = await fetch(`${accounts.url}/api/auth/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'root', password: 'root password' }),
        signal: AbortSignal.timeout(20_000),
      });
      expect(register.status).toBe(201);
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [path.join(DIST, 'main.js'), 'admin', 'invite'],
        { cwd: HOME, env: { ...process.env, DATA_DIR: dataDir }, timeout: 60_000 },
      );
      expect(stdout).toMatch(/^invite code: \S+ \(valid until /m);
    } finally {
      await accounts.stop('SIGKILL');
    }
  });

  it('imports only Node built-ins and production dependencies', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(HOME, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    const allowed = new Set([...Object.keys(pkg.dependencies), ...builtinModules]);
    const imported = new Set<string>();
    for (const file of filesUnder(DIST, '.js')) {
      // Block comments go first: the page's JSDoc names the server's types (`import('…ts')`)
      // for tsc, and nothing loads them.
      const code = fs.readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
      for (const [, specifier] of code.matchAll(/\b(?:from|import)\s*\(?\s*["']([^"']+)["']/g)) {
        expect(specifier, `${file} imports TypeScript`).not.toMatch(/\.ts$/);
        const name = packageOf(specifier!);
        if (name !== undefined) imported.add(name);
      }
    }
    expect(imported.size).toBeGreaterThan(3);
    expect([...imported].filter((name) => !allowed.has(name))).toEqual([]);
  });
});
