/**
 * Pipelined throughput: one sender keeps up to BENCH_WINDOW messages unacked until it has sent
 * BENCH_MESSAGES (or BENCH_TP_SECONDS passed); one receiver must get every acked message once,
 * in order, and the transcript all of them.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { checkSequence, closedClients } from '../lib/checks.ts';
import { BenchClient, closeAll, sentAt, stamp } from '../lib/client.ts';
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

const MESSAGES = envInt('BENCH_MESSAGES', 20_000);
const WINDOW = envInt('BENCH_WINDOW', 500);
const SECONDS = envInt('BENCH_TP_SECONDS', 20);

/** The sender's window of unacked messages, and what came back. */
class Pipeline {
  readonly ackLatency = new Samples();
  readonly e2e = new Samples();
  readonly sendTimes = new Float64Array(MESSAGES);
  readonly receivedIds: number[] = [];
  readonly ackedIds: number[] = [];
  sent = 0;
  acked = 0;
  refused = 0;
  lastAckAt = 0;
  lastDeliveryAt = 0;
  sendStarted = 0;
  stopSending = false;
  sender: BenchClient | undefined;

  /** Sends until the window is full or every message is out. */
  pump(): void {
    if (!this.sender) return;
    const limit = Math.min(MESSAGES, this.acked + this.refused + WINDOW);
    while (!this.stopSending && this.sent < limit) {
      const at = now();
      this.sendTimes[this.sent] = at;
      const text = stamp(0, this.sent, at);
      this.sender.send({ type: 'message', text, client_id: `t-${this.sent}` });
      this.sent++;
    }
  }

  delivered(id: number, text: string): void {
    this.lastDeliveryAt = now();
    this.receivedIds.push(id);
    this.e2e.add(this.lastDeliveryAt - sentAt(text));
  }

  ack(clientId: string | null, id: number): void {
    const seq = Number((clientId ?? '').slice(2));
    this.lastAckAt = now();
    this.ackLatency.add(this.lastAckAt - this.sendTimes[seq]!);
    this.ackedIds.push(id);
    this.acked++;
    this.pump();
  }

  refuse(): void {
    this.refused++;
    this.pump();
  }
}

/** Joins the receiver, then the sender, each reporting to the pipeline. */
async function joinBoth(wsUrl: string, pipeline: Pipeline): Promise<BenchClient[]> {
  const receiver = await BenchClient.join(wsUrl, 'receiver', (c) => {
    c.onMessage = (id, text) => pipeline.delivered(id, text);
    c.onFrame = (frame) => {
      if (frame.type === 'message') pipeline.delivered(frame.id, frame.text);
    };
  });
  pipeline.sender = await BenchClient.join(wsUrl, 'sender', (c) => {
    c.onMessage = () => {}; // its own messages: counted, not parsed
    c.onFrame = (frame) => {
      if (frame.type === 'ack') pipeline.ack(frame.client_id, frame.id);
      else if (frame.type === 'error') pipeline.refuse();
    };
  });
  return [pipeline.sender, receiver];
}

/** Sends every message (or until BENCH_TP_SECONDS) and waits for the acks and deliveries. */
async function pipe(pipeline: Pipeline, deadline: Deadline): Promise<boolean> {
  pipeline.sendStarted = now();
  const sendDeadline = Math.min(pipeline.sendStarted + SECONDS * 1000, deadline.at);
  pipeline.pump();
  const allAnswered = () => pipeline.acked + pipeline.refused >= MESSAGES;
  await waitFor(allAnswered, Math.max(0, sendDeadline - now()), deadline);
  pipeline.stopSending = true;
  return waitFor(
    () =>
      pipeline.acked + pipeline.refused >= pipeline.sent &&
      pipeline.receivedIds.length >= pipeline.acked,
    10_000,
    deadline,
  );
}

/** The receiver got every acked message once, in order; no ack repeated an id. */
function checkDeliveries(pipeline: Pipeline, clients: BenchClient[]): string[] {
  const expected = [...pipeline.ackedIds].sort((a, b) => a - b);
  const problems = checkSequence('receiver', pipeline.receivedIds, expected, new Set(expected));
  const ackDuplicates = pipeline.ackedIds.length - new Set(pipeline.ackedIds).size;
  if (ackDuplicates) problems.push(`${ackDuplicates} ack(s) repeated an id`);
  problems.push(...closedClients(clients));
  return problems;
}

function throughputRows(pipeline: Pipeline, problems: string[]): Row[] {
  const { sent, acked, refused, receivedIds } = pipeline;
  const ackSpan = (pipeline.lastAckAt - pipeline.sendStarted) / 1000;
  const deliverySpan = (pipeline.lastDeliveryAt - pipeline.sendStarted) / 1000;
  const ackLat = pipeline.ackLatency.summary();
  const lat = pipeline.e2e.summary();
  return [
    ['messages sent / acked / refused', `${int(sent)} / ${int(acked)} / ${refused}`],
    ['acked throughput', `${int(acked / ackSpan)} msg/s (${ackSpan.toFixed(2)} s)`],
    ['delivered throughput (receiver)', `${int(receivedIds.length / deliverySpan)} msg/s`],
    ['ack latency p50 / p99 / max', msList(ackLat.p50, ackLat.p99, ackLat.max)],
    ['end-to-end latency p50 / p99 / max', msList(lat.p50, lat.p99, lat.max)],
    [
      'order & completeness check',
      problems.length
        ? `**MISMATCH** (${problems.length} problem(s))`
        : `OK: ${int(receivedIds.length)} messages, each once, in order`,
    ],
  ];
}

async function run(context: ScenarioContext): Promise<void> {
  const { result, deadline } = context;
  const server = await context.startServer();
  console.log(`  1 sender, 1 receiver, ${int(MESSAGES)} messages, at most ${WINDOW} unacked`);
  const pipeline = new Pipeline();
  const clients = await joinBoth(server.proc.wsUrl, pipeline);
  await sleep(200);

  await scrapeMetrics(server.proc.url); // prom-client resets its event-loop delay histogram
  const cpu = new CpuMeter(server.pid);
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const drained = await pipe(pipeline, deadline);
  loopDelay.disable();
  if (!drained) result.problems.push('acks or deliveries did not complete within the drain time');

  const problems = checkDeliveries(pipeline, clients);
  result.problems.push(...summarizeProblems(problems));
  result.rows.push(...throughputRows(pipeline, problems), [
    'load generator event-loop delay p99',
    ms(loopDelay.percentile(99) / 1e6),
  ]);
  await serverReport(server, result, cpu);
  await closeAll(clients, 5000);
  await stopAndCheckTranscript(server, result, pipeline.acked);
}

export const throughput: Scenario = {
  name: 'throughput',
  summary: new Set([
    'messages sent / acked / refused',
    'acked throughput',
    'ack latency p50 / p99 / max',
    'end-to-end latency p50 / p99 / max',
    'order & completeness check',
    'server CPU (of one core)',
    'load generator CPU (of one core)',
    'server event-loop delay p99 / max',
  ]),
  run,
};
