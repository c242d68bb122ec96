import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config.ts';
import { createLogger, startEmbedded } from '../../src/compose.ts';
import type { RunningChat } from '../../src/compose.ts';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export function tempDir(prefix = 'chatroom-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export interface TestChat {
  url: string;
  wsUrl: string;
  dataDir: string;
  chat: RunningChat;
  close(): Promise<void>;
}

/**
 * The AUTH mode of test servers that do not choose one: the seed's model (`?username=`), which
 * the suites written before accounts rely on. Named here so that the server's default can change
 * without them.
 */
export const TEST_AUTH = 'open';

/** Starts embedded mode in this process on a free port with a temp DATA_DIR. */
export async function startTestChat(env: Record<string, string> = {}): Promise<TestChat> {
  const dataDir = env.DATA_DIR ?? tempDir();
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    AUTH: TEST_AUTH,
    ...env,
    DATA_DIR: dataDir,
  });
  const chat = await startEmbedded(config, createLogger(config));
  const url = chat.url!.replace('localhost', '127.0.0.1');
  return {
    url,
    wsUrl: url.replace(/^http/, 'ws'),
    dataDir,
    chat,
    close: () => chat.close(),
  };
}

export interface ChatProcess {
  /** The gateway's URL; '' for a history service alone. */
  url: string;
  wsUrl: string;
  child: ChildProcess;
  /** Resolves with the exit code (or signal name) when the process ends. */
  exited: Promise<number | string>;
  output(): string;
  /** Sends a signal and waits for the process to end. */
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

/**
 * Runs `src/main.ts` as its own process (through tsx; `entry` may name another script, such as
 * the build's `dist/main.js`) and waits for its startup line.
 */
/** `env`: a variable given as undefined is left unset (e.g. `AUTH: undefined`: the default). */
export async function spawnChat(
  env: Record<string, string | undefined>,
  args: string[] = [],
  entry: string[] = ['--import', 'tsx', 'src/main.ts'],
): Promise<ChatProcess> {
  const childEnv: Record<string, string | undefined> = {
    ...process.env,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    AUTH: TEST_AUTH,
    ...env,
  };
  for (const [name, value] of Object.entries(childEnv))
    if (value === undefined) delete childEnv[name];
  const child = spawn(process.execPath, [...entry, ...args], {
    cwd: ROOT,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  const url = await new Promise<string>((resolve, reject) => {
    // generous: several suites and other load share the machine's two cores
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no startup line in 60 s:\n${output}`));
    }, 60_000);
    const onData = () => {
      const match = /^chatroom .*(?:listening on (http:\/\/\S+)|no HTTP)/m.exec(output);
      if (match) {
        clearTimeout(timer);
        child.stdout.off('data', onData);
        resolve(match[1]?.replace('localhost', '127.0.0.1') ?? '');
      }
    };
    child.stdout.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before listening:\n${output}`));
    });
  });
  return {
    url,
    wsUrl: url.replace(/^http/, 'ws'),
    child,
    exited,
    output: () => output,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

export interface AdminRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * `node src/main.ts admin ARGS` (what `npm run admin -- ARGS` and `node dist/main.js admin` run)
 * as a process with these variables, `stdin` written to it.
 */
export function runAdmin(
  env: Record<string, string>,
  args: string[],
  stdin?: string,
): Promise<AdminRun> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'admin', ...args], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.end(stdin);
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}
