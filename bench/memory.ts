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
import { ROOT } from '../test/helpers/chat-server.ts';
import type { ChatProcess } from '../test/helpers/chat-server.ts';
import type { BenchClient } from './lib/client.ts';
import { cutOpenSockets, joinAll } from './lib/client.ts';
import { envInt, usageError } from './lib/env.ts';
import { coresLine, int, loadLine, mib } from './lib/format.ts';
import { readMetrics } from './lib/metrics.ts';
import { processCpuSeconds, processMemory } from './lib/proc.ts';
import { disposeServer, startNatsGroup, startServer } from './lib/server.ts';
import { now, sleep, waitFor } from './lib/time.ts';

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

/** Heap and external memory from the chat's /metrics (prom-client's default metrics), MiB. */
async function heapOf(url: string): Promise<string> {
  const names = [
    'nodejs_heap_size_used_bytes',
    'nodejs_heap_size_total_bytes',
    'nodejs_external_memory_bytes',
  ];
  try {
    const metrics = await readMetrics(url, names);
    const [used, total, external] = names.map((name) => mib(Number(metrics[name]) / 2 ** 20));
    return `heap used ${used} of ${total}, external ${external}`;
  } catch {
    return 'n/a';
  }
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

/** The server to measure and how to stop it; in NATS mode with its nats-server and history. */
async function startMeasured(
  name: ServerName,
): Promise<{ chat: ChatProcess; stop: () => Promise<void> }> {
  const prefix = 'chatroom-memory-';
  if (name !== 'gateway') {
    const server = await startServer({ prefix, entry: [...SERVERS[name]] });
    return { chat: server.proc, stop: () => disposeServer(server) };
  }
  const group = await startNatsGroup({
    gateways: 1,
    prefix,
    historyEntry: ['dist/main.js'],
    gatewayEntry: [...SERVERS.gateway],
  });
  return { chat: group.gateways[0]!, stop: () => group.stop() };
}

/** Joins every client in batches of 50; acks land in `acked`. Throws if one cannot join. */
async function joinClients(wsUrl: string, acked: Set<number>): Promise<BenchClient[]> {
  const names = Array.from({ length: CLIENTS }, (_, i) => `u${i}`);
  const { clients, failures } = await joinAll(wsUrl, names, {
    batch: 50,
    timeoutMs: CONNECT_MS,
    setup: (c) => {
      // 500 receivers: message frames are counted, not decoded
      c.onMessage = 'count';
      c.onFrame = (frame) => {
        if (frame.type === 'ack') acked.add(frame.id);
      };
    },
  });
  if (failures.length) throw new Error(failures[0]);
  return clients;
}

/** Sends RATE messages per second for SECONDS (5 s of grace at most); returns how many. */
async function send(senders: BenchClient[]): Promise<number> {
  const planned = RATE * SECONDS;
  const started = now();
  let sent = 0;
  while (sent < planned && now() - started < SECONDS * 1000 + 5000) {
    const due = Math.min(planned, Math.floor(((now() - started) / 1000) * RATE));
    for (; sent < due; sent++) {
      const text = `m${sent}`;
      senders[sent % senders.length]!.send({ type: 'message', text, client_id: text });
    }
    await sleep(5);
  }
  return sent;
}

async function measure(name: ServerName): Promise<Measured> {
  const { chat, stop } = await startMeasured(name);
  try {
    const pid = chat.child.pid!;
    await sleep(IDLE_MS);
    const idle = processMemory(pid).rss;
    const acked = new Set<number>();
    const clients = await joinClients(chat.wsUrl, acked);
    await sleep(1000); // the joins' presence batches go out
    const joined = processMemory(pid).rss;

    const cpuBefore = processCpuSeconds(pid);
    const sent = await send(clients.slice(0, SENDERS));
    const heap = name === 'baseline' ? '' : await heapOf(chat.url);
    const received = (c: BenchClient) => c.counts.get('message') ?? 0;
    const done = () => acked.size === sent && clients.every((c) => received(c) >= acked.size);
    await waitFor(done, DRAIN_MS, undefined, 50);
    const cpu = processCpuSeconds(pid) - cpuBefore;
    const deliveries = clients.reduce((sum, c) => sum + received(c), 0);
    const delivered = `${int(deliveries)} / ${int(sent * clients.length)} (acked ${acked.size})`;
    return { server: name, idle, joined, peak: processMemory(pid).peak, cpu, delivered, heap };
  } finally {
    cutOpenSockets();
    await stop();
  }
}

/** The servers named on the command line (a comma-separated list), or all of them. */
function chosenServers(): ServerName[] {
  const wanted = (process.argv[2] ?? Object.keys(SERVERS).join(',')).split(',');
  const unknown = wanted.filter((name) => !(name in SERVERS));
  if (unknown.length) {
    usageError(`unknown server ${unknown.join(', ')}; expected ${Object.keys(SERVERS).join(', ')}`);
  }
  if (!fs.existsSync('dist/main.js')) {
    usageError('dist/main.js is missing: run `npm run build` first');
  }
  return wanted as ServerName[];
}

function printTable(results: Measured[]): void {
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

async function main(): Promise<void> {
  const servers = chosenServers();
  console.log(
    `# memory under fan-out, ${new Date().toISOString()}: Node ${process.version}, ` +
      `${coresLine()}, load ${loadLine()}`,
  );
  console.log(
    `# 1 room, ${CLIENTS} clients (${SENDERS} sending), ${RATE} msg/s for ${SECONDS} s\n`,
  );
  const results: Measured[] = [];
  for (const name of servers) {
    const result = await measure(name);
    results.push(result);
    console.log(`${name}: ${JSON.stringify(result)}`);
  }
  printTable(results);
}

await main();
