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
import type { BenchClient } from './lib/client.ts';
import { closeAll, cutOpenSockets, joinAll } from './lib/client.ts';
import { envInt } from './lib/env.ts';
import { startNatsGroup, startServer, disposeServer } from './lib/server.ts';
import { Samples } from './lib/stats.ts';
import { Deadline, now, sleep, waitFor } from './lib/time.ts';

const RATE = envInt('BRIDGE_RATE', 200);
const SECONDS = envInt('BRIDGE_SECONDS', 10);
const RECEIVERS = envInt('BRIDGE_RECEIVERS', 20);
const SENDERS = 4;
const DEADLINE_MS = (SECONDS + 30) * 1000;

interface Path {
  label: string;
  latencies: Samples;
  received: number;
}

type Row = Record<'label' | 'delivered' | 'p50' | 'p99' | 'max', string>;

/** RECEIVERS clients on `wsUrl`, each recording send→receive latency of every timed message. */
async function joinReceivers(wsUrl: string, path: Path): Promise<BenchClient[]> {
  const names = Array.from({ length: RECEIVERS }, (_, i) => `${path.label}-r${i}`);
  const { clients, failures } = await joinAll(wsUrl, names, {
    batch: 1,
    setup: (c) => {
      c.onFrame = (frame) => {
        if (frame.type !== 'message' || !frame.text.startsWith('t=')) return;
        path.latencies.add(performance.timeOrigin + now() - Number(frame.text.slice(2)));
        path.received++;
      };
    },
  });
  if (failures.length) throw new Error(failures[0]);
  return clients;
}

/**
 * Sends RATE messages per second for SECONDS, each carrying its send time, round robin; returns
 * the deadline of the whole measurement, counted from the first send.
 */
async function send(senders: BenchClient[]): Promise<Deadline> {
  const total = RATE * SECONDS;
  const started = now();
  const deadline = new Deadline(DEADLINE_MS);
  for (let n = 0; n < total && !deadline.passed; n++) {
    const wait = started + (n * 1000) / RATE - now();
    if (wait > 1) await sleep(wait);
    const text = `t=${performance.timeOrigin + now()}`;
    senders[n % SENDERS]!.send({ type: 'message', text });
  }
  return deadline;
}

/** Latency from SENDERS clients on `senderUrl` to the receivers of each path. */
async function measure(senderUrl: string, receiverUrls: Record<string, string>): Promise<Row[]> {
  const paths: Path[] = [];
  const clients: BenchClient[] = [];
  for (const [label, url] of Object.entries(receiverUrls)) {
    const path: Path = { label, latencies: new Samples(), received: 0 };
    paths.push(path);
    clients.push(...(await joinReceivers(url, path)));
  }
  const names = Array.from({ length: SENDERS }, (_, i) => `sender${i}`);
  const senders = await joinAll(senderUrl, names, {
    batch: SENDERS,
    setup: (c) => (c.onMessage = 'count'), // their own messages: counted, not decoded
  });
  if (senders.failures.length) throw new Error(senders.failures[0]);
  const deadline = await send(senders.clients);
  const expected = RATE * SECONDS * RECEIVERS;
  await waitFor(() => paths.every((p) => p.received >= expected), deadline.left, deadline, 50);
  await closeAll([...clients, ...senders.clients], 5000);
  return paths.map((path) => row(path, expected));
}

function row(path: Path, expected: number): Row {
  const { p50, p99, max } = path.latencies.summary();
  return {
    label: path.label,
    delivered: `${path.received}/${expected}`,
    p50: p50.toFixed(1),
    p99: p99.toFixed(1),
    max: max.toFixed(1),
  };
}

async function embeddedRows(): Promise<Row[]> {
  const server = await startServer({ prefix: 'chatroom-bridge-' });
  try {
    const url = server.proc.wsUrl;
    return await measure(url, { 'embedded, same process': url });
  } finally {
    await disposeServer(server);
  }
}

async function natsRows(): Promise<Row[]> {
  const group = await startNatsGroup({ gateways: 2, prefix: 'chatroom-bridge-' });
  try {
    const [a, b] = group.gateways.map((gateway) => gateway.wsUrl) as [string, string];
    return await measure(a, { 'NATS, same gateway (A→A)': a, 'NATS, across gateways (A→B)': b });
  } finally {
    await group.stop();
  }
}

async function main(): Promise<void> {
  let rows: Row[];
  try {
    rows = [...(await embeddedRows()), ...(await natsRows())];
  } finally {
    cutOpenSockets();
  }
  console.log(
    `\nbridge latency, ${RATE} msg/s for ${SECONDS} s, ${SENDERS} senders on gateway A, ` +
      `${RECEIVERS} receivers per row; ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ` +
      `${os.cpus().length} cores (everything on one machine)\n`,
  );
  console.log('| path | delivered | p50 ms | p99 ms | max ms |\n| --- | --- | --- | --- | --- |');
  for (const r of rows)
    console.log(`| ${r.label} | ${r.delivered} | ${r.p50} | ${r.p99} | ${r.max} |`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
