/**
 * The cost of the NATS bridge: latency of a message from a client on one gateway to clients on
 * another, at a fixed rate, against the same traffic within one gateway and in embedded mode.
 * `npm run bench:bridge`. Everything runs on 127.0.0.1 with its own nats-server; every loop is
 * bounded by count and time.
 *
 *   BRIDGE_RATE      messages per second, all senders together   [200]
 *   BRIDGE_SECONDS   how long to send                              [10]
 *   BRIDGE_RECEIVERS receivers per gateway                         [20]
 */
import os from 'node:os';
import WebSocket from 'ws';
import { spawnChat, tempDir } from '../test/helpers/chat-server.ts';
import type { ChatProcess } from '../test/helpers/chat-server.ts';
import { TestNatsServer } from '../test/helpers/nats-server.ts';

const RATE = Number(process.env.BRIDGE_RATE ?? 200);
const SECONDS = Number(process.env.BRIDGE_SECONDS ?? 10);
const RECEIVERS = Number(process.env.BRIDGE_RECEIVERS ?? 20);
const SENDERS = 4;
const DEADLINE_MS = (SECONDS + 30) * 1000;

interface Sample {
  latencies: number[];
  received: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function open(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    const timer = setTimeout(() => reject(new Error(`connect timeout: ${url}`)), 10_000);
    socket.on('message', function first(data: Buffer) {
      // ready once the join's presence frame arrived (history came before it)
      if ((JSON.parse(data.toString()) as { type: string }).type === 'presence') {
        socket.off('message', first);
        clearTimeout(timer);
        resolve(socket);
      }
    });
    socket.once('error', reject);
  });
}

/** Receivers record send→receive latency of every message that carries a send time. */
function receive(socket: WebSocket, sample: Sample): void {
  socket.on('message', (data: Buffer) => {
    const frame = JSON.parse(data.toString()) as { type: string; text?: string };
    if (frame.type !== 'message' || !frame.text?.startsWith('t=')) return;
    sample.latencies.push(performance.timeOrigin + performance.now() - Number(frame.text.slice(2)));
    sample.received++;
  });
}

async function measure(senderUrl: string, receiverUrls: Record<string, string>) {
  const room = '/ws/1?username=';
  const samples: Record<string, Sample> = {};
  const receivers: WebSocket[] = [];
  for (const [label, url] of Object.entries(receiverUrls)) {
    const sample: Sample = { latencies: [], received: 0 };
    samples[label] = sample;
    for (let i = 0; i < RECEIVERS; i++) {
      const socket = await open(`${url}${room}${label}-r${i}`);
      receive(socket, sample);
      receivers.push(socket);
    }
  }
  const senders = await Promise.all(
    Array.from({ length: SENDERS }, (_, i) => open(`${senderUrl}${room}sender${i}`)),
  );
  const total = RATE * SECONDS;
  const started = performance.now();
  const deadline = started + DEADLINE_MS;
  for (let n = 0; n < total && performance.now() < deadline; n++) {
    const due = started + (n * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    senders[n % SENDERS]!.send(
      JSON.stringify({ type: 'message', text: `t=${performance.timeOrigin + performance.now()}` }),
    );
  }
  const expected = total * RECEIVERS;
  while (
    Object.values(samples).some((s) => s.received < expected) &&
    performance.now() < deadline
  ) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  for (const socket of [...receivers, ...senders]) socket.close();
  return Object.entries(samples).map(([label, sample]) => {
    const sorted = [...sample.latencies].sort((a, b) => a - b);
    return {
      label,
      delivered: `${sample.received}/${expected}`,
      p50: percentile(sorted, 50).toFixed(1),
      p99: percentile(sorted, 99).toFixed(1),
      max: (sorted[sorted.length - 1] ?? NaN).toFixed(1),
    };
  });
}

async function main(): Promise<void> {
  const processes: ChatProcess[] = [];
  const env = { RATE_LIMIT: '0', LOG_LEVEL: 'warn' };
  const rows: Array<Record<string, string>> = [];
  try {
    const embedded = await spawnChat({ ...env, DATA_DIR: tempDir() });
    processes.push(embedded);
    for (const row of await measure(embedded.wsUrl, { 'embedded, same process': embedded.wsUrl })) {
      rows.push(row);
    }
    await embedded.stop();

    const nats = await TestNatsServer.start();
    try {
      const nenv = { ...env, NATS_URL: nats.url };
      const history = await spawnChat({ ...nenv, DATA_DIR: tempDir() }, ['history']);
      const a = await spawnChat({ ...nenv, DATA_DIR: tempDir() }, ['gateway']);
      const b = await spawnChat({ ...nenv, DATA_DIR: tempDir() }, ['gateway']);
      processes.push(history, a, b);
      rows.push(
        ...(await measure(a.wsUrl, {
          'NATS, same gateway (A→A)': a.wsUrl,
          'NATS, across gateways (A→B)': b.wsUrl,
        })),
      );
    } finally {
      for (const p of processes) await p.stop();
      await nats.stop();
    }
  } finally {
    for (const p of processes) await p.stop('SIGKILL');
  }
  console.log(
    `\nbridge latency, ${RATE} msg/s for ${SECONDS} s, ${SENDERS} senders on gateway A, ` +
      `${RECEIVERS} receivers per row; ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ` +
      `${os.cpus().length} cores (everything on one machine)\n`,
  );
  console.log('| path | delivered | p50 ms | p99 ms | max ms |\n| --- | --- | --- | --- | --- |');
  for (const row of rows)
    console.log(`| ${row.label} | ${row.delivered} | ${row.p50} | ${row.p99} | ${row.max} |`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
