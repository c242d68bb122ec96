/**
 * Resident memory under fan-out, side by side: `npm run bench:memory [server,...]`.
 *
 * The same workload runs against each server in turn, each its own process on 127.0.0.1:
 *   baseline  a plain `ws` broadcast server of the same frames (bench/ws-baseline.js)
 *   tsx       the chat from its sources through tsx, as `npm start` ran before the build
 *   dist      the build, `node dist/main.js`, with V8's default heap sizes
 *   start     the build as `npm start` runs it (its node flags read from package.json)
 *   gateway   a NATS-mode gateway as `npm run gateway` runs it, beside its own nats-server and
 *             history service (only the gateway's memory is measured)
 * (no argument: all five; `npm run bench:memory` builds first). For each: RSS once started and
 * idle, after the joins, and the peak (VmHWM, kept by the kernel) over the whole run; for the
 * chat also its heap and external memory from /metrics at the end of the send phase.
 *
 * Workload (defaults in brackets): MEM_CLIENTS clients [500] join room 1 in batches of 50;
 * MEM_SENDERS of them [10] send MEM_RATE messages per second all together [200] for MEM_SECONDS
 * [10]; then each client must have received every acked message (bounded wait). Every loop is
 * bounded by count and by time.
 */
import fs from 'node:fs';
import os from 'node:os';
import WebSocket from 'ws';
import { ROOT, spawnChat, tempDir } from '../test/helpers/chat-server.ts';
import type { ChatProcess } from '../test/helpers/chat-server.ts';
import { TestNatsServer } from '../test/helpers/nats-server.ts';
import { envInt } from './lib/env.ts';
import { processCpuSeconds, processMemory } from './lib/proc.ts';

const CLIENTS = envInt('MEM_CLIENTS', 500);
const SENDERS = Math.min(CLIENTS, envInt('MEM_SENDERS', 10));
const RATE = envInt('MEM_RATE', 200);
const SECONDS = envInt('MEM_SECONDS', 10);
const IDLE_MS = 2000;
const DRAIN_MS = 30_000;
const CONNECT_MS = 20_000;

/** The node flags `npm start` (and `npm run gateway`) give, from package.json. */
function startFlags(): string[] {
  const pkg = JSON.parse(fs.readFileSync(`${ROOT}/package.json`, 'utf8')) as {
    scripts: Record<string, string>;
  };
  const words = pkg.scripts.start!.split(/\s+/);
  return words.slice(words.indexOf('node') + 1, words.indexOf('dist/main.js'));
}

const SERVERS = {
  baseline: ['bench/ws-baseline.js'],
  tsx: ['--import', 'tsx', 'src/main.ts'],
  dist: ['dist/main.js'],
  start: [...startFlags(), 'dist/main.js'],
  gateway: [...startFlags(), 'dist/main.js'],
} as const;
type ServerName = keyof typeof SERVERS;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const mib = (value: number) => (Number.isFinite(value) ? `${value.toFixed(0)} MiB` : 'n/a');

/** Heap and external memory from the chat's /metrics (prom-client's default metrics), MiB. */
async function heapOf(url: string): Promise<string> {
  try {
    const text = await (
      await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5000) })
    ).text();
    const value = (name: string) =>
      Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1]) / 2 ** 20;
    return (
      `heap used ${mib(value('nodejs_heap_size_used_bytes'))} of ${mib(value('nodejs_heap_size_total_bytes'))}, ` +
      `external ${mib(value('nodejs_external_memory_bytes'))}`
    );
  } catch {
    return 'n/a';
  }
}

const [M, A, P, QUOTE] = ['m', 'a', 'p', '"'].map((c) => c.charCodeAt(0));

interface Client {
  ws: WebSocket;
  received: number;
}

/** Opens a client of room 1; resolves once its `presence` frame (after `history`) arrived. */
function join(wsUrl: string, username: string, acked: Set<number>): Promise<Client> {
  const ws = new WebSocket(`${wsUrl}/ws/1?username=${username}`, {
    perMessageDeflate: false,
    skipUTF8Validation: true,
  });
  const client: Client = { ws, received: 0 };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${username}: not joined`)), CONNECT_MS);
    ws.on('message', (data: Buffer) => {
      // Both servers write `{"type":"…` first: the type's first letters tell the frames apart
      // without parsing, which keeps 500 receivers light.
      const kind = data[9];
      if (kind === M) client.received++;
      else if (kind === A) acked.add((JSON.parse(data.toString()) as { id: number }).id);
      else if (kind === P && data[17] === QUOTE) {
        clearTimeout(timer);
        resolve(client);
      }
    });
    ws.once('close', () => reject(new Error(`${username}: closed`)));
    ws.on('error', () => {});
  });
}

interface Measured {
  server: ServerName;
  idle: number;
  joined: number;
  peak: number;
  /** CPU seconds the server used from the first message sent until every client had them. */
  cpu: number;
  delivered: string;
  heap: string;
}

/** Starts the server to measure; in NATS mode with its nats-server and history service. */
async function startServer(name: ServerName, dataDir: string, others: Array<() => Promise<void>>) {
  const env = { DATA_DIR: dataDir, RATE_LIMIT: '0', LOG_LEVEL: 'warn' };
  if (name !== 'gateway') return spawnChat(env, [], [...SERVERS[name]]);
  const nats = await TestNatsServer.start();
  others.push(() => nats.stop());
  const history = await spawnChat({ ...env, NATS_URL: nats.url }, ['history'], ['dist/main.js']);
  others.push(async () => void (await history.stop('SIGTERM')));
  return spawnChat({ ...env, NATS_URL: nats.url }, ['gateway'], [...SERVERS.gateway]);
}

async function measure(name: ServerName): Promise<Measured> {
  const dataDir = tempDir('chatroom-memory-');
  let chat: ChatProcess | undefined;
  const others: Array<() => Promise<void>> = [];
  const clients: Client[] = [];
  try {
    chat = await startServer(name, dataDir, others);
    const pid = chat.child.pid!;
    await sleep(IDLE_MS);
    const idle = processMemory(pid).rss;

    const acked = new Set<number>();
    for (let start = 0; start < CLIENTS; start += 50) {
      const batch = Array.from({ length: Math.min(50, CLIENTS - start) }, (_, i) =>
        join(chat!.wsUrl, `u${start + i}`, acked),
      );
      clients.push(...(await Promise.all(batch)));
    }
    await sleep(1000); // the joins' presence batches go out
    const joined = processMemory(pid).rss;

    const senders = clients.slice(0, SENDERS);
    const cpuBefore = processCpuSeconds(pid);
    const planned = RATE * SECONDS;
    const started = performance.now();
    let sent = 0;
    while (sent < planned && performance.now() - started < SECONDS * 1000 + 5000) {
      const due = Math.min(planned, Math.floor(((performance.now() - started) / 1000) * RATE));
      for (; sent < due; sent++) {
        const text = `m${sent}`;
        senders[sent % senders.length]!.ws.send(
          JSON.stringify({ type: 'message', text, client_id: text }),
        );
      }
      await sleep(5);
    }
    const heap = name === 'baseline' ? '' : await heapOf(chat.url);
    const drainUntil = performance.now() + DRAIN_MS;
    const done = () => acked.size === sent && clients.every((c) => c.received >= acked.size);
    while (!done() && performance.now() < drainUntil) await sleep(50);
    const cpu = processCpuSeconds(pid) - cpuBefore;
    const deliveries = clients.reduce((sum, c) => sum + c.received, 0);
    return {
      server: name,
      idle,
      joined,
      peak: processMemory(pid).peak,
      cpu,
      delivered: `${deliveries.toLocaleString('en-US')} / ${(sent * clients.length).toLocaleString('en-US')} (acked ${acked.size})`,
      heap,
    };
  } finally {
    for (const client of clients) client.ws.terminate();
    await chat?.stop('SIGTERM');
    for (const stop of others.reverse()) await stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const wanted = (process.argv[2] ?? Object.keys(SERVERS).join(',')).split(',');
  const unknown = wanted.filter((name) => !(name in SERVERS));
  if (unknown.length) {
    console.error(
      `bench: unknown server ${unknown.join(', ')}; expected ${Object.keys(SERVERS).join(', ')}`,
    );
    process.exit(2);
  }
  if (!fs.existsSync('dist/main.js')) {
    console.error('bench: dist/main.js is missing: run `npm run build` first');
    process.exit(2);
  }
  console.log(
    `# memory under fan-out, ${new Date().toISOString()}: Node ${process.version}, ` +
      `${os.cpus().length} cores (${os.cpus()[0]?.model.trim() ?? 'unknown CPU'}), load ${os
        .loadavg()
        .map((v) => v.toFixed(2))
        .join(' ')}`,
  );
  console.log(
    `# 1 room, ${CLIENTS} clients (${SENDERS} sending), ${RATE} msg/s for ${SECONDS} s\n`,
  );
  const results: Measured[] = [];
  for (const name of wanted as ServerName[]) {
    const result = await measure(name);
    results.push(result);
    console.log(`${name}: ${JSON.stringify(result)}`);
  }
  const floor = results.find((r) => r.server === 'baseline')?.peak;
  console.log(
    '\n| server | idle RSS | RSS after joins | peak RSS | peak ÷ baseline | server CPU | deliveries |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  for (const r of results) {
    const ratio = floor ? `${(r.peak / floor).toFixed(2)}×` : 'n/a';
    console.log(
      `| ${r.server} | ${mib(r.idle)} | ${mib(r.joined)} | ${mib(r.peak)} | ${ratio} | ${r.cpu.toFixed(1)} s | ${r.delivered} |`,
    );
  }
}

await main();
