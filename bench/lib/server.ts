/**
 * The servers under test, each its own process on 127.0.0.1 with a temp DATA_DIR: one embedded
 * chat, or a NATS-mode group (its own nats-server, a history service and gateways).
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawnChat, tempDir } from '../../test/helpers/chat-server.ts';
import type { ChatProcess } from '../../test/helpers/chat-server.ts';
import { TestNatsServer } from '../../test/helpers/nats-server.ts';

/** What every benchmarked server runs with: no rate limit, only warnings and errors logged. */
export const BENCH_ENV = { AUTH: 'open', RATE_LIMIT: '0', LOG_LEVEL: 'warn' } as const;

export interface BenchServer {
  proc: ChatProcess;
  pid: number;
  dataDir: string;
}

export interface StartOptions {
  /** Prefix of the temp DATA_DIR's name. */
  prefix?: string;
  env?: Record<string, string>;
  /** Arguments after the entry, such as `['history']`. */
  args?: string[];
  /** How node starts the server; spawnChat's default runs `src/main.ts` through tsx. */
  entry?: string[];
}

/** Starts one server with BENCH_ENV and its own temp DATA_DIR. */
export async function startServer(options: StartOptions = {}): Promise<BenchServer> {
  const dataDir = tempDir(options.prefix ?? 'chatroom-bench-');
  try {
    const env = { ...BENCH_ENV, DATA_DIR: dataDir, ...options.env };
    const proc = await spawnChat(env, options.args, options.entry);
    return { proc, pid: proc.child.pid!, dataDir };
  } catch (error) {
    fs.rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
}

export const isRunning = (proc: ChatProcess) =>
  proc.child.exitCode === null && proc.child.signalCode === null;

/** SIGTERM, and SIGKILL if the process is still there 15 s later; resolves with its exit. */
export async function stopProcess(proc: ChatProcess): Promise<string> {
  const killer = setTimeout(() => proc.child.kill('SIGKILL'), 15_000);
  const exit = await proc.stop('SIGTERM');
  clearTimeout(killer);
  return String(exit);
}

/** Stops the server (see stopProcess); returns its exit and what it wrote, startup line aside. */
export async function stopServer(server: BenchServer): Promise<{ exit: string; log: string[] }> {
  const exit = await stopProcess(server.proc);
  const log = server.proc
    .output()
    .split('\n')
    .filter((line) => line.trim() !== '' && !/listening on/.test(line));
  return { exit, log };
}

/** Stops the server if it still runs, and removes its data. */
export async function disposeServer(server: BenchServer): Promise<void> {
  if (isRunning(server.proc)) await stopServer(server);
  fs.rmSync(server.dataDir, { recursive: true, force: true });
}

/** Lines in a room's JSONL transcript; NaN if it cannot be read. */
export function transcriptLines(dataDir: string, room: number): number {
  try {
    const file = path.join(dataDir, 'message_history', `server_${room}_history.jsonl`);
    return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).length;
  } catch {
    return NaN;
  }
}

export interface NatsGroup {
  gateways: ChatProcess[];
  /** Stops the gateways, the history service and nats-server, and removes their data. */
  stop: () => Promise<void>;
}

export interface NatsGroupOptions {
  gateways: number;
  prefix?: string;
  historyEntry?: string[];
  gatewayEntry?: string[];
}

/** Starts nats-server, a history service and `gateways` gateways, all sharing one DATA_DIR. */
export async function startNatsGroup(options: NatsGroupOptions): Promise<NatsGroup> {
  const dataDir = tempDir(options.prefix ?? 'chatroom-bench-');
  const started: ChatProcess[] = [];
  let nats: TestNatsServer | undefined;
  const stop = async () => {
    for (const proc of [...started].reverse()) await stopProcess(proc);
    await nats?.stop();
    for (const dir of [dataDir, nats?.storeDir]) {
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    }
  };
  try {
    nats = await TestNatsServer.start();
    const env = { ...BENCH_ENV, DATA_DIR: dataDir, NATS_URL: nats.url };
    started.push(await spawnChat(env, ['history'], options.historyEntry));
    for (let i = 0; i < options.gateways; i++) {
      started.push(await spawnChat(env, ['gateway'], options.gatewayEntry));
    }
    return { gateways: started.slice(1), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
