/**
 * Contract, "Running it": a bad value of any variable stops startup with a message that names the
 * variable. For DATA_DIR: one line with the variable, the value and the reason, a non-zero exit
 * code, no stack trace. Each cause is real (the tests run as root, so permissions are not one).
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HistoryService } from '../../src/history/history-service.ts';
import { ROOT, TEST_AUTH, tempDir } from '../helpers/chat-server.ts';
import { TestNatsServer } from '../helpers/nats-server.ts';

/** A bound for a start-up under load (the machine is shared); a hang is killed after it. */
const STARTUP_MS = 120_000;
const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const step of cleanups.splice(0).reverse()) await step();
});

/** Runs `src/main.ts` until it exits (killed if it is still running after STARTUP_MS). */
async function runUntilExit(env: Record<string, string>, args: string[] = []) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', AUTH: TEST_AUTH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), STARTUP_MS);
  const code = await new Promise<number | string>((resolve) =>
    child.once('exit', (exitCode, signal) => resolve(exitCode ?? signal ?? 'unknown')),
  );
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** Exits non-zero with exactly one line (besides JSON log lines) naming DATA_DIR and `reason`. */
async function expectRefused(env: Record<string, string>, value: string, reason: RegExp) {
  const { code, stdout, stderr } = await runUntilExit(env, env.NATS_URL ? ['history'] : []);
  const lines = (stdout + stderr).split('\n').filter((line) => line && !line.startsWith('{'));
  expect(lines, stdout + stderr).toHaveLength(1);
  expect(code).not.toBe(0);
  expect(typeof code).toBe('number');
  expect(lines[0]).toMatch(/^chatroom: DATA_DIR: /);
  expect(lines[0]).toContain(value);
  expect(lines[0]).toMatch(reason);
  expect(stderr).not.toMatch(/\n\s+at /);
}

describe('DATA_DIR that cannot be used stops startup with one line', { timeout: 150_000 }, () => {
  it('names an existing file', async () => {
    const file = path.join(tempDir(), 'a-file');
    fs.writeFileSync(file, 'not a directory');
    await expectRefused({ DATA_DIR: file }, file, /is a file, not a directory/);
  });

  it('names a directory that cannot be created under a file', async () => {
    const file = path.join(tempDir(), 'a-file');
    fs.writeFileSync(file, 'not a directory');
    const dir = path.join(file, 'data');
    await expectRefused({ DATA_DIR: dir }, dir, /cannot be created \(ENOTDIR/);
  });

  it('names a directory that cannot be created under /proc (and does not hang)', async () => {
    const dir = `/proc/chatroom-test-${process.pid}/data`;
    await expectRefused({ DATA_DIR: dir }, dir, /cannot be created \(ENOENT/);
  });

  it('names a directory that is not writable (immutable: chattr +i)', async () => {
    const dir = tempDir();
    execFileSync('chattr', ['+i', dir]);
    cleanups.push(() => void execFileSync('chattr', ['-i', dir]));
    await expectRefused({ DATA_DIR: dir }, dir, /is not writable \(EPERM/);
  });

  it('names a database file that is not SQLite', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'chatroom.db'), 'these are notes, not a database\n'.repeat(50));
    await expectRefused({ DATA_DIR: dir }, path.join(dir, 'chatroom.db'), /is not a SQLite/);
  });

  it('names a database that cannot be written (immutable: chattr +i)', async () => {
    const dir = tempDir();
    // a real database, made immutable
    new HistoryService(dir).close();
    const file = path.join(dir, 'chatroom.db');
    execFileSync('chattr', ['+i', file]);
    cleanups.push(() => void execFileSync('chattr', ['-i', file]));
    await expectRefused({ DATA_DIR: dir }, file, /cannot be written/);
  });

  it('does so in NATS mode too (the history service)', async () => {
    const nats = await TestNatsServer.start();
    cleanups.push(() => nats.stop());
    const file = path.join(tempDir(), 'a-file');
    fs.writeFileSync(file, 'not a directory');
    await expectRefused({ DATA_DIR: file, NATS_URL: nats.url }, file, /is a file, not a directory/);
  });
});
