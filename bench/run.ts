/**
 * Load generator for the embedded-mode server: `npm run bench [fanout|throughput|join-storm]`
 * (no argument: all three, one after the other, each against a fresh server).
 *
 * The server under test is its own process (`spawnChat`, a temp DATA_DIR, RATE_LIMIT=0,
 * LOG_LEVEL=warn), so the load generator does not share its event loop. Clients are plain `ws`
 * sockets to 127.0.0.1. Every loop is bounded by a count and by the scenario's hard deadline;
 * a scenario that hits its deadline stops and reports what it has.
 *
 * Tuning by environment (defaults in brackets):
 *   BENCH_DEADLINE     hard deadline per scenario, seconds                          [60]
 *   BENCH_RECEIVERS    fanout: receiving clients                                   [200]
 *   BENCH_SENDERS      fanout: sending clients (they receive too)                   [10]
 *   BENCH_RATE         fanout: messages per second, all senders together           [500]
 *   BENCH_SECONDS      fanout: how long to send                                     [10]
 *   BENCH_MESSAGES     throughput: messages to send                             [20000]
 *   BENCH_WINDOW       throughput: most unacked messages in flight                 [500]
 *   BENCH_TP_SECONDS   throughput: longest send phase                               [20]
 *   BENCH_USERS        join-storm: distinct users                                 [2000]
 *   BENCH_BATCH        join-storm: concurrent connects per batch                    [50]
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import WebSocket from 'ws';
import { spawnChat, tempDir } from '../test/helpers/chat-server.ts';
import type { ChatProcess } from '../test/helpers/chat-server.ts';
import { envInt, processCpuSeconds, processMemory } from './proc.ts';

// ---------------------------------------------------------------------------------------------
// configuration

const DEADLINE_MS = envInt('BENCH_DEADLINE', 60) * 1000;
const FANOUT_RECEIVERS = envInt('BENCH_RECEIVERS', 200);
const FANOUT_SENDERS = envInt('BENCH_SENDERS', 10);
const FANOUT_RATE = envInt('BENCH_RATE', 500);
const FANOUT_SECONDS = envInt('BENCH_SECONDS', 10);
const TP_MESSAGES = envInt('BENCH_MESSAGES', 20_000);
const TP_WINDOW = envInt('BENCH_WINDOW', 500);
const TP_SECONDS = envInt('BENCH_TP_SECONDS', 20);
const STORM_USERS = envInt('BENCH_USERS', 2000);
const STORM_BATCH = envInt('BENCH_BATCH', 50);

/** The room every scenario uses: `general`, present in a fresh data directory. */
const ROOM = 1;
const CONNECT_TIMEOUT_MS = 10_000;

// ---------------------------------------------------------------------------------------------
// small tools

const now = () => performance.now();
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

class Deadline {
  readonly at: number;
  constructor(ms: number) {
    this.at = now() + ms;
  }
  get left(): number {
    return Math.max(0, this.at - now());
  }
  get passed(): boolean {
    return now() >= this.at;
  }
}

/** Polls `done` every 20 ms until it holds, `ms` pass, or the deadline passes. */
async function waitFor(done: () => boolean, ms: number, deadline: Deadline): Promise<boolean> {
  const until = Math.min(now() + ms, deadline.at);
  while (!done()) {
    if (now() >= until) return false;
    await sleep(20);
  }
  return true;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))]!;
}

/** A growable list of latency samples (ms), kept in typed arrays to stay light at 1 M samples. */
class Samples {
  private data = new Float64Array(1024);
  length = 0;
  add(value: number): void {
    if (this.length === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = value;
  }
  summary(): { p50: number; p95: number; p99: number; max: number; n: number } {
    const sorted = this.data.slice(0, this.length).sort();
    return {
      p50: percentile(sorted, 50),
      p95: percentile(sorted, 95),
      p99: percentile(sorted, 99),
      max: sorted.length ? sorted[sorted.length - 1]! : NaN,
      n: sorted.length,
    };
  }
}

const ms = (value: number) => (Number.isFinite(value) ? `${value.toFixed(1)} ms` : 'n/a');
const int = (value: number) => Math.round(value).toLocaleString('en-US');

/** CPU use of this process and of the server over a stretch of time, as % of one core. */
class CpuMeter {
  private readonly started = now();
  private readonly self = process.cpuUsage();
  private readonly server: number;
  constructor(private readonly pid: number) {
    this.server = processCpuSeconds(pid);
  }
  read(): { server: number; loadgen: number } {
    const wall = (now() - this.started) / 1000;
    const self = process.cpuUsage(this.self);
    return {
      server: ((processCpuSeconds(this.pid) - this.server) / wall) * 100,
      loadgen: ((self.user + self.system) / 1e6 / wall) * 100,
    };
  }
}

// ---------------------------------------------------------------------------------------------
// the server under test

interface Server {
  proc: ChatProcess;
  pid: number;
  dataDir: string;
}

async function startServer(env: Record<string, string> = {}): Promise<Server> {
  const dataDir = tempDir('chatroom-bench-');
  // every load-generator client comes from 127.0.0.1: no per-address connection limit
  const base = {
    DATA_DIR: dataDir,
    RATE_LIMIT: '0',
    CONNECTIONS_PER_ADDRESS: '0',
    LOG_LEVEL: 'warn',
  };
  const proc = await spawnChat({ ...base, ...env });
  return { proc, pid: proc.child.pid!, dataDir };
}

/** Prometheus counters of interest, summed over their labels. */
async function scrapeMetrics(server: Server): Promise<Record<string, number>> {
  const wanted = [
    'chatroom_connections',
    'chatroom_messages_in_total',
    'chatroom_messages_out_total',
    'chatroom_slow_clients_closed_total',
    'chatroom_errors_total',
    'nodejs_eventloop_lag_p99_seconds',
    'nodejs_eventloop_lag_max_seconds',
  ];
  const out: Record<string, number> = {};
  try {
    const text = await (
      await fetch(`${server.proc.url}/metrics`, { signal: AbortSignal.timeout(5000) })
    ).text();
    for (const line of text.split('\n')) {
      const match = /^(\w+)(\{[^}]*\})?\s+(\S+)$/.exec(line);
      if (match && wanted.includes(match[1]!)) {
        out[match[1]!] = (out[match[1]!] ?? 0) + Number(match[3]);
      }
    }
  } catch (error) {
    out.scrape_failed = 1;
    console.error(`  ! could not read /metrics: ${(error as Error).message}`);
  }
  return out;
}

/** Stops the server with SIGTERM (SIGKILL after 15 s); returns its exit and any log output. */
async function stopServer(server: Server): Promise<{ exit: string; log: string[] }> {
  const killer = setTimeout(() => server.proc.child.kill('SIGKILL'), 15_000);
  const exit = await server.proc.stop('SIGTERM');
  clearTimeout(killer);
  const log = server.proc
    .output()
    .split('\n')
    .filter((line) => line.trim() !== '' && !/listening on/.test(line));
  return { exit: String(exit), log };
}

function transcriptLines(server: Server): number {
  try {
    const file = path.join(server.dataDir, 'message_history', `server_${ROOM}_history.jsonl`);
    return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).length;
  } catch {
    return NaN;
  }
}

// ---------------------------------------------------------------------------------------------
// clients

interface Frame {
  type: string;
  [key: string]: unknown;
}
interface MessageFrame extends Frame {
  id: number;
  text: string;
  username: string;
}
interface AckFrame extends Frame {
  client_id: string | null;
  id: number;
}

const ID_FIELD = /"id":(\d+)/;
const TEXT_FIELD = /"text":"([^"\\]*)"/;

/** Every socket opened by the current scenario, so that cleanup can cut them all. */
const openSockets = new Set<WebSocket>();

/** A bare `ws` client: counts frames by type, hands each parsed frame to `onFrame`. */
class BenchClient {
  readonly counts = new Map<string, number>();
  readonly errors: Frame[] = [];
  closeCode: number | undefined;
  closeReason = '';
  onFrame: (frame: Frame) => void = () => {};
  /**
   * When set, `message` frames skip JSON.parse and come here with the id and text picked out of
   * the frame (the bench's texts have no characters JSON escapes), to keep 200 receivers light.
   */
  onMessage: ((id: number, text: string) => void) | undefined;
  readonly closed: Promise<void>;

  private constructor(
    readonly username: string,
    readonly ws: WebSocket,
  ) {
    openSockets.add(ws);
    ws.on('message', (data: WebSocket.RawData) => {
      const raw = (data as Buffer).toString('utf8');
      if (this.onMessage && raw.startsWith('{"type":"message"')) {
        const id = ID_FIELD.exec(raw);
        const text = TEXT_FIELD.exec(raw);
        if (id && text) {
          this.counts.set('message', (this.counts.get('message') ?? 0) + 1);
          this.onMessage(Number(id[1]), text[1]!);
          return;
        }
      }
      const frame = JSON.parse(raw) as Frame;
      this.counts.set(frame.type, (this.counts.get(frame.type) ?? 0) + 1);
      if (frame.type === 'error') this.errors.push(frame);
      this.onFrame(frame);
    });
    this.closed = new Promise((resolve) =>
      ws.once('close', (code, reason) => {
        this.closeCode = code;
        this.closeReason = reason.toString();
        openSockets.delete(ws);
        resolve();
      }),
    );
    ws.on('error', () => {}); // the close that follows is what counts
  }

  /** Connects and resolves once the join's `history` and `presence` frames have arrived. */
  static join(
    wsUrl: string,
    username: string,
    setup: (client: BenchClient) => void = () => {},
  ): Promise<BenchClient> {
    const ws = new WebSocket(`${wsUrl}/ws/${ROOM}?username=${encodeURIComponent(username)}`, {
      perMessageDeflate: false,
      skipUTF8Validation: true,
    });
    const client = new BenchClient(username, ws);
    setup(client);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`${username}: no history+presence in ${CONNECT_TIMEOUT_MS} ms`));
      }, CONNECT_TIMEOUT_MS);
      const inner = client.onFrame;
      client.onFrame = (frame) => {
        inner(frame);
        if (frame.type === 'presence') {
          clearTimeout(timer);
          client.onFrame = inner;
          resolve(client);
        }
      };
      void client.closed.then(() => {
        clearTimeout(timer);
        reject(new Error(`${username}: closed ${client.closeCode} ${client.closeReason}`));
      });
    });
  }

  send(frame: object): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(frame));
  }

  close(): void {
    if (this.ws.readyState <= WebSocket.OPEN) this.ws.close();
  }
}

/** Joins `names` in batches of `batch` concurrent connects; stops at the deadline. */
async function joinAll(
  wsUrl: string,
  names: string[],
  batch: number,
  deadline: Deadline,
  setup?: (client: BenchClient, index: number) => void,
): Promise<{ clients: BenchClient[]; failures: string[] }> {
  const clients: BenchClient[] = [];
  const failures: string[] = [];
  for (let start = 0; start < names.length && !deadline.passed; start += batch) {
    const settled = await Promise.allSettled(
      names
        .slice(start, start + batch)
        .map((name, i) => BenchClient.join(wsUrl, name, (c) => setup?.(c, start + i))),
    );
    for (const result of settled) {
      if (result.status === 'fulfilled') clients.push(result.value);
      else failures.push((result.reason as Error).message);
    }
  }
  return { clients, failures };
}

async function closeAll(clients: BenchClient[], ms: number): Promise<number> {
  const started = now();
  for (const client of clients) client.close();
  await Promise.race([Promise.all(clients.map((c) => c.closed)), sleep(ms)]);
  return now() - started;
}

function cutOpenSockets(): void {
  for (const ws of openSockets) ws.terminate();
  openSockets.clear();
}

/** Message text carrying the sender's index, sequence number and send time. */
const stamp = (sender: number, seq: number, at: number) => `${sender}:${seq}:${at.toFixed(3)}`;
const sentAt = (text: string) => Number(text.slice(text.lastIndexOf(':') + 1));

// ---------------------------------------------------------------------------------------------
// results

type Row = [metric: string, value: string];
interface Result {
  scenario: string;
  rows: Row[];
  problems: string[];
  notes: string[];
}

function newResult(scenario: string): Result {
  return { scenario, rows: [], problems: [], notes: [] };
}

/** Checks one client's received ids against the expected sequence; returns problems found. */
function checkSequence(
  who: string,
  got: number[],
  expected: number[],
  expectedSet: Set<number>,
): string[] {
  const problems: string[] = [];
  const seen = new Set<number>();
  let duplicates = 0;
  let outOfOrder = 0;
  let unknown = 0;
  let previous = 0;
  for (const id of got) {
    if (seen.has(id)) duplicates++;
    seen.add(id);
    if (id <= previous) outOfOrder++;
    previous = id;
    if (!expectedSet.has(id)) unknown++;
  }
  const missing = expected.filter((id) => !seen.has(id));
  if (duplicates) problems.push(`${who}: ${duplicates} duplicate message(s)`);
  if (outOfOrder) problems.push(`${who}: ${outOfOrder} message(s) out of id order`);
  if (missing.length) {
    problems.push(
      `${who}: ${missing.length} acked message(s) missing (first ids ${missing.slice(0, 5).join(', ')})`,
    );
  }
  if (unknown) problems.push(`${who}: ${unknown} message(s) whose id no ack named`);
  if (!problems.length && got.length !== expected.length) {
    problems.push(`${who}: got ${got.length} messages, expected ${expected.length}`);
  }
  return problems;
}

function summarizeProblems(problems: string[], limit = 8): string[] {
  if (problems.length <= limit) return problems;
  return [...problems.slice(0, limit), `… and ${problems.length - limit} more`];
}

function serverLoopDelay(metrics: Record<string, number>): string {
  const p99 = metrics.nodejs_eventloop_lag_p99_seconds;
  const max = metrics.nodejs_eventloop_lag_max_seconds;
  if (p99 === undefined || max === undefined) return 'n/a';
  return `${ms(p99 * 1000)} / ${ms(max * 1000)}`;
}

async function serverReport(server: Server, result: Result, cpu: CpuMeter): Promise<void> {
  const load = cpu.read();
  result.rows.push(['server CPU (of one core)', `${load.server.toFixed(0)} %`]);
  result.rows.push(['load generator CPU (of one core)', `${load.loadgen.toFixed(0)} %`]);
  const metrics = await scrapeMetrics(server);
  const mem = processMemory(server.pid);
  result.rows.push([
    'server RSS now / peak (VmHWM)',
    `${mem.rss.toFixed(0)} / ${mem.peak.toFixed(0)} MiB`,
  ]);
  result.rows.push(['server event-loop delay p99 / max', serverLoopDelay(metrics)]);
  const slow = metrics.chatroom_slow_clients_closed_total ?? 0;
  if (slow > 0) result.problems.push(`server closed ${slow} slow client(s) (4408)`);
  result.notes.push(`server /metrics: ${JSON.stringify(metrics)}`);
}

// ---------------------------------------------------------------------------------------------
// scenario 1: fan-out

async function fanout(result: Result, deadline: Deadline, track: (s: Server) => void) {
  const server = await startServer();
  track(server);
  const total = FANOUT_RECEIVERS + FANOUT_SENDERS;
  const planned = FANOUT_RATE * FANOUT_SECONDS;
  console.log(
    `  ${FANOUT_RECEIVERS} receivers + ${FANOUT_SENDERS} senders, ${FANOUT_RATE} msg/s for ${FANOUT_SECONDS} s (${int(planned)} messages)`,
  );

  const received: number[][] = Array.from({ length: total }, () => []);
  const e2e = new Samples();
  const ackLatency = new Samples();
  const sendTimes = new Map<string, number>();
  const ackedIds = new Map<string, number>(); // client_id -> message id
  const textById = new Map<number, string>();
  let delivered = 0;
  let lastDeliveryAt = 0;
  let sent = 0;
  let refused = 0;

  const onMessage = (index: number) => (id: number, text: string) => {
    const at = now();
    received[index]!.push(id);
    delivered++;
    lastDeliveryAt = at;
    e2e.add(at - sentAt(text));
    if (index === 0) textById.set(id, text);
  };
  const onFrame = (index: number) => (frame: Frame) => {
    if (frame.type === 'message') {
      const message = frame as MessageFrame;
      onMessage(index)(message.id, message.text);
    } else if (frame.type === 'ack') {
      const ack = frame as AckFrame;
      const started = ack.client_id === null ? undefined : sendTimes.get(ack.client_id);
      if (started !== undefined && !ackedIds.has(ack.client_id!)) {
        ackLatency.add(now() - started);
        ackedIds.set(ack.client_id!, ack.id);
      }
    } else if (frame.type === 'error') {
      refused++;
    }
  };

  const names = [
    ...Array.from({ length: FANOUT_RECEIVERS }, (_, i) => `r${i}`),
    ...Array.from({ length: FANOUT_SENDERS }, (_, i) => `s${i}`),
  ];
  const joinStarted = now();
  const { clients, failures } = await joinAll(server.proc.wsUrl, names, 50, deadline, (c, i) => {
    c.onFrame = onFrame(i);
    c.onMessage = onMessage(i);
  });
  result.rows.push([
    'clients joined',
    `${clients.length} / ${total} in ${ms(now() - joinStarted)}`,
  ]);
  if (failures.length)
    result.problems.push(...summarizeProblems(failures.map((f) => `join: ${f}`)));
  const senders = clients.filter((c) => c.username.startsWith('s'));
  if (senders.length === 0) throw new Error('no sender could join');
  // let the joins' presence_diff batches go out before measuring
  await sleep(Math.min(1200, deadline.left));

  await scrapeMetrics(server); // prom-client resets its event-loop delay histogram on a scrape
  const cpu = new CpuMeter(server.pid);
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const sendStarted = now();
  // paced by elapsed time: `planned` messages over FANOUT_SECONDS, or fewer at the deadline
  while (sent < planned && !deadline.passed) {
    const due = Math.min(planned, Math.floor(((now() - sendStarted) / 1000) * FANOUT_RATE));
    while (sent < due) {
      const senderIndex = sent % senders.length;
      const clientId = `b-${sent}`;
      const at = now();
      sendTimes.set(clientId, at);
      senders[senderIndex]!.send({
        type: 'message',
        text: stamp(senderIndex, sent, at),
        client_id: clientId,
      });
      sent++;
    }
    await sleep(2);
  }
  const sendSeconds = (now() - sendStarted) / 1000;
  // drain: wait until every acked message reached every client, or 15 s, or the deadline
  const drained = await waitFor(
    () => ackedIds.size + refused >= sent && delivered >= ackedIds.size * clients.length,
    15_000,
    deadline,
  );
  loopDelay.disable();
  if (!drained) result.problems.push('deliveries did not complete within the drain time');

  const acked = ackedIds.size;
  const expected = [...ackedIds.values()].sort((a, b) => a - b);
  const expectedSet = new Set(expected);
  const problems: string[] = [];
  const indexOf = new Map(names.map((name, i) => [name, i]));
  const sequenceOf = (client: BenchClient) => received[indexOf.get(client.username)!]!;
  for (const client of clients) {
    problems.push(...checkSequence(client.username, sequenceOf(client), expected, expectedSet));
    if (client.closeCode !== undefined) {
      problems.push(`${client.username}: closed ${client.closeCode} ${client.closeReason}`);
    }
  }
  // the same order everywhere: every sequence equals the first client's
  const reference = sequenceOf(clients[0]!).join(',');
  const differing = clients.filter((c) => sequenceOf(c).join(',') !== reference).length;
  if (differing) {
    problems.push(`${differing} client(s) saw a different sequence than ${clients[0]!.username}`);
  }
  // acks name the right messages: the text received under an acked id is that send's text
  let wrongText = 0;
  for (const [clientId, id] of ackedIds) {
    const text = textById.get(id);
    if (text !== undefined && text.split(':')[1] !== clientId.slice(2)) wrongText++;
  }
  if (wrongText) problems.push(`${wrongText} ack(s) named an id whose message had another text`);
  result.problems.push(...summarizeProblems(problems));

  const span = (lastDeliveryAt - sendStarted) / 1000;
  const lat = e2e.summary();
  const ackLat = ackLatency.summary();
  result.rows.push(
    ['messages sent / acked / refused', `${int(sent)} / ${int(acked)} / ${refused}`],
    ['send rate achieved', `${int(sent / sendSeconds)} msg/s over ${sendSeconds.toFixed(1)} s`],
    ['deliveries (expected acked × clients)', `${int(delivered)} (${int(acked * clients.length)})`],
    [
      'delivery throughput',
      `${int(delivered / span)} frames/s (first send → last delivery ${span.toFixed(2)} s)`,
    ],
    [
      'end-to-end latency p50 / p95 / p99 / max',
      `${ms(lat.p50)} / ${ms(lat.p95)} / ${ms(lat.p99)} / ${ms(lat.max)}`,
    ],
    ['ack latency p50 / p99 / max', `${ms(ackLat.p50)} / ${ms(ackLat.p99)} / ${ms(ackLat.max)}`],
    [
      'order & completeness check',
      problems.length
        ? `**MISMATCH** (${problems.length} problem(s))`
        : `OK: ${clients.length} clients × ${int(acked)} messages, each once, same order`,
    ],
    ['load generator event-loop delay p99', ms(loopDelay.percentile(99) / 1e6)],
  );
  await serverReport(server, result, cpu);
  await closeAll(clients, 5000);
  await stopAndCheckTranscript(server, result, acked);
}

/** Stops the server and checks that its transcript has one line per acked message. */
async function stopAndCheckTranscript(server: Server, result: Result, acked: number) {
  const stop = await stopServer(server);
  const lines = transcriptLines(server);
  result.rows.push([
    'transcript lines after stop (expected acked)',
    `${int(lines)} (${int(acked)})`,
  ]);
  if (lines !== acked)
    result.problems.push(`transcript has ${lines} lines, ${acked} messages were acked`);
  finishServer(result, stop);
}

// ---------------------------------------------------------------------------------------------
// scenario 2: pipelined throughput

async function throughput(result: Result, deadline: Deadline, track: (s: Server) => void) {
  const server = await startServer();
  track(server);
  console.log(`  1 sender, 1 receiver, ${int(TP_MESSAGES)} messages, at most ${TP_WINDOW} unacked`);
  const ackLatency = new Samples();
  const e2e = new Samples();
  const sendTimes = new Float64Array(TP_MESSAGES);
  const receivedIds: number[] = [];
  const ackedIds: number[] = [];
  let sent = 0;
  let acked = 0;
  let refused = 0;
  let lastAckAt = 0;
  let lastDeliveryAt = 0;
  let sendStarted = 0;
  let stopSending = false;
  let sender: BenchClient | undefined = undefined;

  const pump = () => {
    if (!sender) return;
    const limit = Math.min(TP_MESSAGES, acked + refused + TP_WINDOW);
    while (!stopSending && sent < limit) {
      const at = now();
      sendTimes[sent] = at;
      sender.send({ type: 'message', text: stamp(0, sent, at), client_id: `t-${sent}` });
      sent++;
    }
  };

  const onMessage = (id: number, text: string) => {
    lastDeliveryAt = now();
    receivedIds.push(id);
    e2e.add(lastDeliveryAt - sentAt(text));
  };
  const receiver = await BenchClient.join(server.proc.wsUrl, 'receiver', (c) => {
    c.onMessage = onMessage;
    c.onFrame = (frame) => {
      if (frame.type !== 'message') return;
      const message = frame as MessageFrame;
      onMessage(message.id, message.text);
    };
  });
  sender = await BenchClient.join(server.proc.wsUrl, 'sender', (c) => {
    c.onMessage = () => {}; // its own messages: counted, not parsed
    c.onFrame = (frame) => {
      if (frame.type === 'ack') {
        const ack = frame as AckFrame;
        const seq = Number((ack.client_id ?? '').slice(2));
        lastAckAt = now();
        ackLatency.add(lastAckAt - sendTimes[seq]!);
        ackedIds.push(ack.id);
        acked++;
        pump();
      } else if (frame.type === 'error') {
        refused++;
        pump();
      }
    };
  });
  await sleep(200);

  await scrapeMetrics(server); // prom-client resets its event-loop delay histogram on a scrape
  const cpu = new CpuMeter(server.pid);
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  sendStarted = now();
  const sendDeadline = Math.min(sendStarted + TP_SECONDS * 1000, deadline.at);
  pump();
  await waitFor(() => acked + refused >= TP_MESSAGES, Math.max(0, sendDeadline - now()), deadline);
  stopSending = true;
  const drained = await waitFor(
    () => acked + refused >= sent && receivedIds.length >= acked,
    10_000,
    deadline,
  );
  loopDelay.disable();
  if (!drained) result.problems.push('acks or deliveries did not complete within the drain time');

  const expected = [...ackedIds].sort((a, b) => a - b);
  const problems = checkSequence('receiver', receivedIds, expected, new Set(expected));
  const ackDuplicates = ackedIds.length - new Set(ackedIds).size;
  if (ackDuplicates) problems.push(`${ackDuplicates} ack(s) repeated an id`);
  for (const client of [sender, receiver]) {
    if (client.closeCode !== undefined)
      problems.push(`${client.username}: closed ${client.closeCode} ${client.closeReason}`);
  }
  result.problems.push(...summarizeProblems(problems));

  const ackSpan = (lastAckAt - sendStarted) / 1000;
  const deliverySpan = (lastDeliveryAt - sendStarted) / 1000;
  const ackLat = ackLatency.summary();
  const lat = e2e.summary();
  result.rows.push(
    ['messages sent / acked / refused', `${int(sent)} / ${int(acked)} / ${refused}`],
    ['acked throughput', `${int(acked / ackSpan)} msg/s (${ackSpan.toFixed(2)} s)`],
    ['delivered throughput (receiver)', `${int(receivedIds.length / deliverySpan)} msg/s`],
    ['ack latency p50 / p99 / max', `${ms(ackLat.p50)} / ${ms(ackLat.p99)} / ${ms(ackLat.max)}`],
    ['end-to-end latency p50 / p99 / max', `${ms(lat.p50)} / ${ms(lat.p99)} / ${ms(lat.max)}`],
    [
      'order & completeness check',
      problems.length
        ? `**MISMATCH** (${problems.length} problem(s))`
        : `OK: ${int(receivedIds.length)} messages, each once, in order`,
    ],
    ['load generator event-loop delay p99', ms(loopDelay.percentile(99) / 1e6)],
  );
  await serverReport(server, result, cpu);
  await closeAll([sender, receiver], 5000);
  await stopAndCheckTranscript(server, result, acked);
}

// ---------------------------------------------------------------------------------------------
// scenario 3: join storm

async function joinStorm(result: Result, deadline: Deadline, track: (s: Server) => void) {
  const server = await startServer();
  track(server);
  console.log(`  ${int(STORM_USERS)} users, ${STORM_BATCH} concurrent connects per batch`);
  const baseline = processMemory(server.pid);
  const names = Array.from({ length: STORM_USERS }, (_, i) => `u${String(i).padStart(5, '0')}`);
  const indexOf = (name: string) => Number(name.slice(1));
  // each client's view of the room, as a bit set over the user indexes, and its size
  const views: Uint8Array[] = [];
  const viewSizes = new Int32Array(STORM_USERS);
  const apply = (client: number, name: string, present: boolean) => {
    const view = views[client]!;
    const user = indexOf(name);
    if (!(user >= 0 && user < STORM_USERS)) return;
    if (present && !view[user]) {
      view[user] = 1;
      viewSizes[client]!++;
    } else if (!present && view[user]) {
      view[user] = 0;
      viewSizes[client]!--;
    }
  };
  let lastPresenceFrameAt = 0;

  await scrapeMetrics(server); // prom-client resets its event-loop delay histogram on a scrape
  const cpu = new CpuMeter(server.pid);
  const started = now();
  const { clients, failures } = await joinAll(
    server.proc.wsUrl,
    names,
    STORM_BATCH,
    deadline,
    (c, i) => {
      views[i] = new Uint8Array(STORM_USERS);
      c.onFrame = (frame) => {
        switch (frame.type) {
          case 'presence':
            for (const user of frame.users as string[]) apply(i, user, true);
            break;
          case 'join':
          case 'leave':
            lastPresenceFrameAt = now();
            apply(i, frame.username as string, frame.type === 'join');
            break;
          case 'presence_diff':
            lastPresenceFrameAt = now();
            for (const user of frame.joins as string[]) apply(i, user, true);
            for (const user of frame.leaves as string[]) apply(i, user, false);
            break;
        }
      };
    },
  );
  const joinMs = now() - started;
  // the last presence_diff goes out up to PRESENCE_DIFF_INTERVAL (500 ms) later
  await waitFor(
    () => clients.every((c) => viewSizes[indexOf(c.username)] === clients.length),
    5000,
    deadline,
  );
  const settledMs = now() - started;
  const load = cpu.read();
  const afterJoin = processMemory(server.pid);
  const metricsAfterJoin = await scrapeMetrics(server);

  const count = (type: string) => clients.reduce((sum, c) => sum + (c.counts.get(type) ?? 0), 0);
  const types = ['history', 'presence', 'join', 'leave', 'presence_diff'];
  const byType = Object.fromEntries(types.map((t) => [t, count(t)]));
  const totalFrames = clients.reduce(
    (sum, c) => sum + [...c.counts.values()].reduce((a, b) => a + b, 0),
    0,
  );
  const wrongViews = clients.filter((c) => viewSizes[indexOf(c.username)] !== clients.length);
  if (failures.length)
    result.problems.push(...summarizeProblems(failures.map((f) => `join: ${f}`)));
  if (wrongViews.length) {
    const example = wrongViews[0]!;
    result.problems.push(
      `${wrongViews.length} client(s) do not see all ${clients.length} users present (e.g. ${example.username} sees ${viewSizes[indexOf(example.username)]})`,
    );
  }
  const closedEarly = clients.filter((c) => c.closeCode !== undefined);
  if (closedEarly.length) {
    result.problems.push(
      `${closedEarly.length} client(s) closed during the storm (e.g. ${closedEarly[0]!.username}: ${closedEarly[0]!.closeCode} ${closedEarly[0]!.closeReason})`,
    );
  }
  result.rows.push(
    ['users joined', `${int(clients.length)} / ${int(STORM_USERS)}`],
    [
      'time until all joined (history+presence)',
      `${ms(joinMs)} (${int((clients.length / joinMs) * 1000)} joins/s)`,
    ],
    [
      'time until every client sees everyone',
      `${ms(settledMs)} (last presence frame at ${ms(lastPresenceFrameAt - started)})`,
    ],
    ['frames received, all clients', int(totalFrames)],
    ['… join / leave frames', `${int(byType.join!)} / ${int(byType.leave!)}`],
    ['… presence_diff frames', int(byType.presence_diff!)],
    ['… history / presence frames', `${int(byType.history!)} / ${int(byType.presence!)}`],
    ['join frames without coalescing would be', int((clients.length * (clients.length - 1)) / 2)],
    [
      'presence view check',
      wrongViews.length ? '**MISMATCH**' : `OK: every client sees all ${int(clients.length)} users`,
    ],
    ['server CPU during storm (of one core)', `${load.server.toFixed(0)} %`],
    ['load generator CPU during storm (of one core)', `${load.loadgen.toFixed(0)} %`],
    [
      'server RSS before / after joins / peak (VmHWM)',
      `${baseline.rss.toFixed(0)} / ${afterJoin.rss.toFixed(0)} / ${afterJoin.peak.toFixed(0)} MiB`,
    ],
  );
  result.rows.push(['server event-loop delay p99 / max', serverLoopDelay(metricsAfterJoin)]);
  result.notes.push(`server /metrics after the joins: ${JSON.stringify(metricsAfterJoin)}`);
  if (
    metricsAfterJoin.chatroom_connections !== undefined &&
    metricsAfterJoin.chatroom_connections !== clients.length
  ) {
    result.problems.push(
      `chatroom_connections is ${metricsAfterJoin.chatroom_connections} with ${clients.length} clients connected`,
    );
  }

  const closeMs = await closeAll(clients, Math.min(15_000, deadline.left));
  const stillOpen = clients.filter((c) => c.closeCode === undefined).length;
  if (stillOpen)
    result.problems.push(`${stillOpen} client(s) not closed ${int(closeMs)} ms after close()`);
  // the server forgets them: presence empty, no connections
  let presenceLeft = -1;
  const presenceDeadline = now() + 5000;
  while (now() < presenceDeadline && !deadline.passed) {
    try {
      const response = await fetch(`${server.proc.url}/api/servers/${ROOM}/presence`, {
        signal: AbortSignal.timeout(5000),
      });
      presenceLeft = ((await response.json()) as string[]).length;
    } catch {
      presenceLeft = -1;
    }
    if (presenceLeft === 0) break;
    await sleep(100);
  }
  const metricsAfterClose = await scrapeMetrics(server);
  const peak = processMemory(server.pid).peak;
  result.rows.push(
    ['time to close all', ms(closeMs)],
    [
      'presence after close (REST) / connections metric',
      `${presenceLeft} / ${metricsAfterClose.chatroom_connections ?? 'n/a'}`,
    ],
    ['server peak RSS over the scenario (VmHWM)', `${peak.toFixed(0)} MiB`],
  );
  if (presenceLeft !== 0)
    result.problems.push(
      `REST presence still lists ${presenceLeft} user(s) after every client closed`,
    );
  if ((metricsAfterClose.chatroom_connections ?? 0) !== 0) {
    result.problems.push(
      `chatroom_connections is ${metricsAfterClose.chatroom_connections} after every client closed`,
    );
  }
  finishServer(result, await stopServer(server));
}

function finishServer(result: Result, stop: { exit: string; log: string[] }): void {
  result.rows.push(['server exit on SIGTERM', stop.exit]);
  if (stop.exit !== '0') result.problems.push(`server exited with ${stop.exit} on SIGTERM`);
  // LOG_LEVEL=warn: pino lines are warnings or errors; plain lines are the server's own notices
  const bad = stop.log.filter((line) =>
    /"level":\s*[4-6]0|error|warn|exception|unhandled/i.test(line),
  );
  if (bad.length) result.problems.push(`server logged ${bad.length} warning/error line(s)`);
  result.notes.push(...stop.log.slice(0, 10).map((line) => `server output: ${line.slice(0, 300)}`));
}

// ---------------------------------------------------------------------------------------------
// runner

const SCENARIOS = {
  fanout,
  throughput,
  'join-storm': joinStorm,
} as const;
type ScenarioName = keyof typeof SCENARIOS;

async function runScenario(name: ScenarioName): Promise<Result> {
  const result = newResult(name);
  const deadline = new Deadline(DEADLINE_MS);
  let server: Server | undefined;
  console.log(`\n## ${name}`);
  let timer: NodeJS.Timeout | undefined;
  const hardStop = new Promise<'timeout'>((resolve) => {
    // the scenario's own loops stop at the deadline; this catches anything that still hangs
    timer = setTimeout(() => resolve('timeout'), DEADLINE_MS + 20_000);
  });
  try {
    const outcome = await Promise.race([
      SCENARIOS[name](result, deadline, (s) => (server = s)),
      hardStop,
    ]);
    if (outcome === 'timeout')
      result.problems.push('scenario hung past its hard deadline; cut off');
  } catch (error) {
    result.problems.push(`scenario failed: ${(error as Error).stack ?? String(error)}`);
  } finally {
    clearTimeout(timer);
    if (deadline.passed) result.notes.push(`hit the ${DEADLINE_MS / 1000} s hard deadline`);
    cutOpenSockets();
    if (server && server.proc.child.exitCode === null && server.proc.child.signalCode === null) {
      await stopServer(server);
    }
    if (server) fs.rmSync(server.dataDir, { recursive: true, force: true });
  }
  for (const [metric, value] of result.rows) console.log(`  ${metric}: ${value}`);
  for (const problem of result.problems) console.log(`  !!! PROBLEM: ${problem}`);
  for (const note of result.notes) console.log(`  note: ${note}`);
  return result;
}

/** The rows that go into the final table; every row is printed in the scenario's section. */
const SUMMARY = new Set([
  'clients joined',
  'messages sent / acked / refused',
  'deliveries (expected acked × clients)',
  'delivery throughput',
  'end-to-end latency p50 / p95 / p99 / max',
  'ack latency p50 / p99 / max',
  'acked throughput',
  'end-to-end latency p50 / p99 / max',
  'order & completeness check',
  'server CPU (of one core)',
  'server CPU during storm (of one core)',
  'server event-loop delay p99 / max',
  'load generator CPU (of one core)',
  'users joined',
  'time until all joined (history+presence)',
  'time until every client sees everyone',
  'frames received, all clients',
  '… join / leave frames',
  '… presence_diff frames',
  'presence view check',
  'server peak RSS over the scenario (VmHWM)',
  'presence after close (REST) / connections metric',
]);

/** The commit measured, and whether the working tree differed from it. */
function gitLine(): string {
  try {
    const git = (...args: string[]) =>
      execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const changed = git('status', '--porcelain', '--', 'src').split('\n').filter(Boolean).length;
    return `commit ${git('rev-parse', '--short', 'HEAD')}${changed ? ` + ${changed} uncommitted change(s) in src/` : ''}`;
  } catch {
    return 'commit unknown';
  }
}

function loadLine(): string {
  return os
    .loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');
}

async function main(): Promise<void> {
  const arg = process.argv[2];
  if (arg !== undefined && !(arg in SCENARIOS)) {
    console.error(
      `bench: unknown scenario "${arg}"; expected one of ${Object.keys(SCENARIOS).join(', ')}`,
    );
    process.exit(2);
  }
  const names =
    arg === undefined ? (Object.keys(SCENARIOS) as ScenarioName[]) : [arg as ScenarioName];
  const loadBefore = loadLine();
  const started = new Date();
  console.log(`# chatroom bench, ${started.toISOString()}`);
  console.log(`load average before (1/5/15 min): ${loadBefore}`);
  const results: Result[] = [];
  for (const name of names) results.push(await runScenario(name));
  const loadAfter = loadLine();

  const lines: string[] = [];
  lines.push(
    '',
    `### Benchmark results (embedded mode), ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    '',
  );
  lines.push(
    `Node ${process.version}, ${os.cpus().length} cores (${os.cpus()[0]?.model.trim() ?? 'unknown CPU'}), ` +
      `${(os.totalmem() / 2 ** 30).toFixed(0)} GiB; load generator and server on the same machine, ` +
      `server in its own process; ${gitLine()}. ` +
      `Load average (1/5/15 min) before: ${loadBefore}; after: ${loadAfter}.`,
    '',
    '| scenario | metric | value |',
    '| --- | --- | --- |',
  );
  for (const result of results) {
    for (const [metric, value] of result.rows) {
      if (SUMMARY.has(metric)) lines.push(`| ${result.scenario} | ${metric} | ${value} |`);
    }
    lines.push(
      `| ${result.scenario} | problems | ${result.problems.length ? `**${result.problems.length}** (see above)` : 'none'} |`,
    );
  }
  console.log(lines.join('\n'));
  const problems = results.flatMap((r) => r.problems.map((p) => `${r.scenario}: ${p}`));
  if (problems.length) {
    console.log(`\n!!! ${problems.length} PROBLEM(S):`);
    for (const problem of problems) console.log(`!!! ${problem}`);
    process.exitCode = 1;
  }
}

await main();
