/**
 * chatroom against a plain `ws` broadcast server (bench/ws-baseline.js: the same frames, a rooms
 * map, each frame serialised once, no storage), side by side: `npm run bench:compare`
 * (`-- --quick`: small and short). Each round starts both servers afresh, one after the other,
 * the order alternating by round; the figures are the medians over the rounds, and the ratios
 * are chatroom's to the baseline's. Lost, duplicated and out-of-order deliveries must be zero.
 *
 * Workloads (defaults; --quick in brackets):
 *   a  1 room × 500 clients [100], 5 of them sending, 200 messages/s [100] for 10 s [3]
 *   b  100 rooms [20] × 10 clients, 2 sending in each, 5 messages/s per room, for 10 s [3]
 * chatroom runs compiled, as `npm start` does (embedded mode, a temp DATA_DIR), so `npm run
 * build` runs first. Load generator and servers share the machine's cores.
 */
import os from 'node:os';
import { cutOpenSockets } from './lib/client.ts';
import { coresLine, gitLine, int, loadLine, ms } from './lib/format.ts';
import { makeRooms, runFanout } from './lib/fanout-load.ts';
import type { FanoutLoad, FanoutResult } from './lib/fanout-load.ts';
import { disposeServer, startServer } from './lib/server.ts';
import { Deadline } from './lib/time.ts';

const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 1 : 3;

const SUBJECTS = {
  chatroom: ['--optimize-for-size', 'dist/main.js'],
  baseline: ['bench/ws-baseline.js'],
} as const;
type Subject = keyof typeof SUBJECTS;

interface Workload {
  name: string;
  rooms: number;
  load: Omit<FanoutLoad, 'rooms'>;
}

const WORKLOADS: Workload[] = [
  {
    name: '(a) 1 room',
    rooms: 1,
    load: {
      clientsPerRoom: quick ? 100 : 500,
      sendersPerRoom: 5,
      ratePerRoom: quick ? 100 : 200,
      seconds: quick ? 3 : 10,
    },
  },
  {
    name: '(b) many rooms',
    rooms: quick ? 20 : 100,
    load: { clientsPerRoom: 10, sendersPerRoom: 2, ratePerRoom: 5, seconds: quick ? 3 : 10 },
  },
];

async function runOnce(subject: Subject, workload: Workload): Promise<FanoutResult> {
  const server = await startServer({
    prefix: `chatroom-compare-${subject}-`,
    entry: [...SUBJECTS[subject]],
    env: { ROOM_CREATE_LIMIT: '0', REST_RATE_LIMIT: '0', CONNECTIONS_PER_ADDRESS: '0' },
  });
  try {
    const rooms =
      subject === 'chatroom'
        ? await makeRooms(server.proc.url, workload.rooms)
        : Array.from({ length: workload.rooms }, (_, i) => i + 1);
    const deadline = new Deadline((workload.load.seconds + 60) * 1000);
    return await runFanout(server.proc.wsUrl, server.pid, { ...workload.load, rooms }, deadline);
  } finally {
    cutOpenSockets();
    await disposeServer(server);
  }
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

console.log(`chatroom vs plain ws (${new Date().toISOString()}, ${gitLine()})`);
console.log(
  `machine: ${coresLine()}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
);
console.log(`load before: ${loadLine()}; ${ROUNDS} round(s)${quick ? ', quick' : ''}\n`);
const rows: string[] = [];
for (const workload of WORKLOADS) {
  const results: Record<Subject, FanoutResult[]> = { chatroom: [], baseline: [] };
  for (let round = 0; round < ROUNDS; round++) {
    const order: Subject[] = round % 2 === 0 ? ['chatroom', 'baseline'] : ['baseline', 'chatroom'];
    for (const subject of order) {
      const result = await runOnce(subject, workload);
      results[subject].push(result);
      console.log(
        `${workload.name} round ${round + 1} ${subject}: ${int(result.delivered)} of ` +
          `${int(result.expected)} delivered, ${result.cpuPerDelivery.toFixed(2)} µs CPU each, ` +
          `p99 ${ms(result.latency.p99)}, peak RSS ${result.peakRssMiB.toFixed(0)} MiB, ` +
          `lost ${result.lost} dup ${result.duplicated} out of order ${result.outOfOrder}` +
          (result.joinFailures ? `, ${result.joinFailures} joins failed` : ''),
      );
    }
  }
  const figure = (subject: Subject, pick: (r: FanoutResult) => number) =>
    median(results[subject].map(pick));
  const line = (label: string, pick: (r: FanoutResult) => number, unit: string) => {
    const base = figure('baseline', pick);
    const chat = figure('chatroom', pick);
    rows.push(
      `| ${workload.name} | ${label} | ${base.toFixed(2)} ${unit} | ${chat.toFixed(2)} ${unit} | ` +
        `${(chat / base).toFixed(2)}× |`,
    );
  };
  line('CPU per delivery', (r) => r.cpuPerDelivery, 'µs');
  line('p50 latency', (r) => r.latency.p50, 'ms');
  line('p99 latency', (r) => r.latency.p99, 'ms');
  line('peak RSS', (r) => r.peakRssMiB, 'MiB');
  const faults = (subject: Subject) =>
    results[subject].reduce((sum, r) => sum + r.lost + r.duplicated + r.outOfOrder, 0);
  rows.push(
    `| ${workload.name} | lost + duplicated + out of order | ${faults('baseline')} | ` +
      `${faults('chatroom')} | |`,
  );
}
console.log(
  '\n| workload | figure | plain ws | chatroom | ratio |\n| --- | --- | --- | --- | --- |',
);
for (const row of rows) console.log(row);
