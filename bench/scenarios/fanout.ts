/**
 * Fan-out: BENCH_RECEIVERS receivers and BENCH_SENDERS senders (they receive too) in one room;
 * the senders send BENCH_RATE messages per second all together for BENCH_SECONDS. Every client
 * must get every acked message once, all in the same order, and the transcript all of them.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { ServerFrame } from '../../src/protocol.ts';
import { checkSequence, closedClients } from '../lib/checks.ts';
import { closeAll, joinAll, sentAt, stamp } from '../lib/client.ts';
import type { BenchClient } from '../lib/client.ts';
import { envInt } from '../lib/env.ts';
import { int, ms, msList } from '../lib/format.ts';
import { scrapeMetrics } from '../lib/metrics.ts';
import { CpuMeter } from '../lib/proc.ts';
import { summarizeProblems } from '../lib/report.ts';
import type { Row } from '../lib/report.ts';
import { serverReport, stopAndCheckTranscript } from '../lib/scenario.ts';
import type { Scenario, ScenarioContext } from '../lib/scenario.ts';
import { Samples } from '../lib/stats.ts';
import { now, sleep, waitFor } from '../lib/time.ts';
import type { Deadline } from '../lib/time.ts';

const RECEIVERS = envInt('BENCH_RECEIVERS', 200);
const SENDERS = envInt('BENCH_SENDERS', 10);
const RATE = envInt('BENCH_RATE', 500);
const SECONDS = envInt('BENCH_SECONDS', 10);

/** What the senders sent and the clients received, gathered as frames arrive. */
class Tally {
  /** Each client's message ids in arrival order, by its name's place in the name list. */
  readonly received: number[][];
  readonly e2e = new Samples();
  readonly ackLatency = new Samples();
  readonly sendTimes = new Map<string, number>();
  /** client_id → message id, from the first ack of each send. */
  readonly ackedIds = new Map<string, number>();
  /** The text the first client received under each id. */
  readonly textById = new Map<number, string>();
  delivered = 0;
  lastDeliveryAt = 0;
  sent = 0;
  refused = 0;

  constructor(clients: number) {
    this.received = Array.from({ length: clients }, () => []);
  }

  message(index: number, id: number, text: string): void {
    const at = now();
    this.received[index]!.push(id);
    this.delivered++;
    this.lastDeliveryAt = at;
    this.e2e.add(at - sentAt(text));
    if (index === 0) this.textById.set(id, text);
  }

  frame(index: number, frame: ServerFrame): void {
    if (frame.type === 'message') this.message(index, frame.id, frame.text);
    else if (frame.type === 'ack') this.ack(frame.client_id, frame.id);
    else if (frame.type === 'error') this.refused++;
  }

  private ack(clientId: string | null, id: number): void {
    if (clientId === null) return;
    const started = this.sendTimes.get(clientId);
    if (started !== undefined && !this.ackedIds.has(clientId)) {
      this.ackLatency.add(now() - started);
      this.ackedIds.set(clientId, id);
    }
  }

  /** Every acked message reached every client, and every send was acked or refused. */
  drained(clients: number): boolean {
    const acked = this.ackedIds.size;
    return acked + this.refused >= this.sent && this.delivered >= acked * clients;
  }
}

async function joinClients(
  { result, deadline }: ScenarioContext,
  wsUrl: string,
  names: string[],
  tally: Tally,
): Promise<BenchClient[]> {
  const started = now();
  const { clients, failures } = await joinAll(wsUrl, names, {
    batch: 50,
    deadline,
    setup: (c, i) => {
      c.onFrame = (frame) => tally.frame(i, frame);
      c.onMessage = (id, text) => tally.message(i, id, text);
    },
  });
  result.rows.push([
    'clients joined',
    `${clients.length} / ${names.length} in ${ms(now() - started)}`,
  ]);
  if (failures.length)
    result.problems.push(...summarizeProblems(failures.map((f) => `join: ${f}`)));
  return clients;
}

/** Sends `planned` messages paced by elapsed time, or fewer at the deadline; returns the start. */
async function send(
  senders: BenchClient[],
  tally: Tally,
  planned: number,
  deadline: Deadline,
): Promise<number> {
  const started = now();
  while (tally.sent < planned && !deadline.passed) {
    const due = Math.min(planned, Math.floor(((now() - started) / 1000) * RATE));
    while (tally.sent < due) {
      const senderIndex = tally.sent % senders.length;
      const clientId = `b-${tally.sent}`;
      const at = now();
      tally.sendTimes.set(clientId, at);
      const text = stamp(senderIndex, tally.sent, at);
      senders[senderIndex]!.send({ type: 'message', text, client_id: clientId });
      tally.sent++;
    }
    await sleep(2);
  }
  return started;
}

/** Every client got every acked message once, in the same order, under the id its ack named. */
function checkDeliveries(clients: BenchClient[], names: string[], tally: Tally): string[] {
  const expected = [...tally.ackedIds.values()].sort((a, b) => a - b);
  const expectedSet = new Set(expected);
  const indexOf = new Map(names.map((name, i) => [name, i]));
  const sequenceOf = (client: BenchClient) => tally.received[indexOf.get(client.username)!]!;
  const problems: string[] = [];
  for (const client of clients) {
    problems.push(...checkSequence(client.username, sequenceOf(client), expected, expectedSet));
    problems.push(...closedClients([client]));
  }
  // the same order everywhere: every sequence equals the first client's
  const reference = sequenceOf(clients[0]!).join(',');
  const differing = clients.filter((c) => sequenceOf(c).join(',') !== reference).length;
  if (differing) {
    problems.push(`${differing} client(s) saw a different sequence than ${clients[0]!.username}`);
  }
  // acks name the right messages: the text received under an acked id is that send's text
  let wrongText = 0;
  for (const [clientId, id] of tally.ackedIds) {
    const text = tally.textById.get(id);
    if (text !== undefined && text.split(':')[1] !== clientId.slice(2)) wrongText++;
  }
  if (wrongText) problems.push(`${wrongText} ack(s) named an id whose message had another text`);
  return problems;
}

function deliveryRows(tally: Tally, clients: number, sendStarted: number, sendSeconds: number) {
  const acked = tally.ackedIds.size;
  const span = (tally.lastDeliveryAt - sendStarted) / 1000;
  const lat = tally.e2e.summary();
  const ackLat = tally.ackLatency.summary();
  const rows: Row[] = [
    ['messages sent / acked / refused', `${int(tally.sent)} / ${int(acked)} / ${tally.refused}`],
    [
      'send rate achieved',
      `${int(tally.sent / sendSeconds)} msg/s over ${sendSeconds.toFixed(1)} s`,
    ],
    ['deliveries (expected acked × clients)', `${int(tally.delivered)} (${int(acked * clients)})`],
    [
      'delivery throughput',
      `${int(tally.delivered / span)} frames/s (first send → last delivery ${span.toFixed(2)} s)`,
    ],
    ['end-to-end latency p50 / p95 / p99 / max', msList(lat.p50, lat.p95, lat.p99, lat.max)],
    ['ack latency p50 / p99 / max', msList(ackLat.p50, ackLat.p99, ackLat.max)],
  ];
  return rows;
}

async function run(context: ScenarioContext): Promise<void> {
  const { result, deadline } = context;
  const server = await context.startServer();
  const planned = RATE * SECONDS;
  console.log(
    `  ${RECEIVERS} receivers + ${SENDERS} senders, ${RATE} msg/s for ${SECONDS} s (${int(planned)} messages)`,
  );
  const names = [
    ...Array.from({ length: RECEIVERS }, (_, i) => `r${i}`),
    ...Array.from({ length: SENDERS }, (_, i) => `s${i}`),
  ];
  const tally = new Tally(names.length);
  const clients = await joinClients(context, server.proc.wsUrl, names, tally);
  const senders = clients.filter((c) => c.username.startsWith('s'));
  if (senders.length === 0) throw new Error('no sender could join');
  // let the joins' presence_diff batches go out before measuring
  await sleep(Math.min(1200, deadline.left));

  await scrapeMetrics(server.proc.url); // prom-client resets its event-loop delay histogram
  const cpu = new CpuMeter(server.pid);
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const sendStarted = await send(senders, tally, planned, deadline);
  const sendSeconds = (now() - sendStarted) / 1000;
  // drain: wait until every acked message reached every client, or 15 s, or the deadline
  const drained = await waitFor(() => tally.drained(clients.length), 15_000, deadline);
  loopDelay.disable();
  if (!drained) result.problems.push('deliveries did not complete within the drain time');

  const problems = checkDeliveries(clients, names, tally);
  result.problems.push(...summarizeProblems(problems));
  const acked = tally.ackedIds.size;
  result.rows.push(
    ...deliveryRows(tally, clients.length, sendStarted, sendSeconds),
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

export const fanout: Scenario = {
  name: 'fanout',
  summary: new Set([
    'clients joined',
    'messages sent / acked / refused',
    'deliveries (expected acked × clients)',
    'delivery throughput',
    'end-to-end latency p50 / p95 / p99 / max',
    'ack latency p50 / p99 / max',
    'order & completeness check',
    'server CPU (of one core)',
    'load generator CPU (of one core)',
    'server event-loop delay p99 / max',
  ]),
  run,
};
