/**
 * Join storm: BENCH_USERS distinct users join one room, BENCH_BATCH at a time. Every client must
 * come to see every user present (presence, join/leave and presence_diff frames), and once they
 * all closed the server must list nobody and count no connection.
 */
import type { ServerFrame } from '../../src/protocol.ts';
import { closeAll, joinAll, ROOM } from '../lib/client.ts';
import type { BenchClient } from '../lib/client.ts';
import { envInt } from '../lib/env.ts';
import { int, ms } from '../lib/format.ts';
import { scrapeMetrics, serverLoopDelay } from '../lib/metrics.ts';
import { CpuMeter, processMemory } from '../lib/proc.ts';
import { summarizeProblems } from '../lib/report.ts';
import type { Result, Row } from '../lib/report.ts';
import { finishServer } from '../lib/scenario.ts';
import type { Scenario, ScenarioContext } from '../lib/scenario.ts';
import { stopServer } from '../lib/server.ts';
import type { BenchServer } from '../lib/server.ts';
import { now, sleep, waitFor } from '../lib/time.ts';
import type { Deadline } from '../lib/time.ts';

const USERS = envInt('BENCH_USERS', 2000);
const BATCH = envInt('BENCH_BATCH', 50);

const nameOf = (user: number) => `u${String(user).padStart(5, '0')}`;
const indexOf = (name: string) => Number(name.slice(1));

/** Each client's view of the room, as a bit set over the user indexes, and its size. */
class Views {
  private readonly views: Uint8Array[] = [];
  private readonly sizes = new Int32Array(USERS);
  lastPresenceFrameAt = 0;

  sizeOf(client: BenchClient): number {
    return this.sizes[indexOf(client.username)]!;
  }

  /** Takes one frame that client `client` received into its view. */
  frame(client: number, frame: ServerFrame): void {
    switch (frame.type) {
      case 'presence':
        for (const user of frame.users) this.apply(client, user, true);
        break;
      case 'join':
      case 'leave':
        this.lastPresenceFrameAt = now();
        this.apply(client, frame.username, frame.type === 'join');
        break;
      case 'presence_diff':
        this.lastPresenceFrameAt = now();
        for (const user of frame.joins) this.apply(client, user, true);
        for (const user of frame.leaves) this.apply(client, user, false);
        break;
    }
  }

  private apply(client: number, name: string, present: boolean): void {
    const view = (this.views[client] ??= new Uint8Array(USERS));
    const user = indexOf(name);
    if (!(user >= 0 && user < USERS)) return;
    if (present && !view[user]) {
      view[user] = 1;
      this.sizes[client]!++;
    } else if (!present && view[user]) {
      view[user] = 0;
      this.sizes[client]!--;
    }
  }
}

/** Joins every user; resolves once all see everyone (or 5 s later), with the times it took. */
async function storm(server: BenchServer, views: Views, deadline: Deadline) {
  const names = Array.from({ length: USERS }, (_, i) => nameOf(i));
  const started = now();
  const { clients, failures } = await joinAll(server.proc.wsUrl, names, {
    batch: BATCH,
    deadline,
    setup: (c, i) => {
      c.onFrame = (frame) => views.frame(i, frame);
    },
  });
  const joinMs = now() - started;
  // the last presence_diff goes out up to PRESENCE_DIFF_INTERVAL (500 ms) later
  const everyoneSeen = () => clients.every((c) => views.sizeOf(c) === clients.length);
  await waitFor(everyoneSeen, 5000, deadline);
  return { clients, failures, started, joinMs, settledMs: now() - started };
}

type Storm = Awaited<ReturnType<typeof storm>>;

function stormProblems({ clients, failures }: Storm, views: Views): string[] {
  const problems = summarizeProblems(failures.map((f) => `join: ${f}`));
  const wrongViews = clients.filter((c) => views.sizeOf(c) !== clients.length);
  if (wrongViews.length) {
    const example = wrongViews[0]!;
    problems.push(
      `${wrongViews.length} client(s) do not see all ${clients.length} users present (e.g. ${example.username} sees ${views.sizeOf(example)})`,
    );
  }
  const closedEarly = clients.filter((c) => c.closeCode !== undefined);
  if (closedEarly.length) {
    const first = closedEarly[0]!;
    problems.push(
      `${closedEarly.length} client(s) closed during the storm (e.g. ${first.username}: ${first.closeCode} ${first.closeReason})`,
    );
  }
  return problems;
}

function frameRows({ clients }: Storm): Row[] {
  const count = (type: ServerFrame['type']) =>
    clients.reduce((sum, c) => sum + (c.counts.get(type) ?? 0), 0);
  const totalFrames = clients.reduce(
    (sum, c) => sum + [...c.counts.values()].reduce((a, b) => a + b, 0),
    0,
  );
  return [
    ['frames received, all clients', int(totalFrames)],
    ['… join / leave frames', `${int(count('join'))} / ${int(count('leave'))}`],
    ['… presence_diff frames', int(count('presence_diff'))],
    ['… history / presence frames', `${int(count('history'))} / ${int(count('presence'))}`],
    ['join frames without coalescing would be', int((clients.length * (clients.length - 1)) / 2)],
  ];
}

function joinRows(storm: Storm, views: Views): Row[] {
  const { clients, joinMs, settledMs, started } = storm;
  const wrongViews = clients.some((c) => views.sizeOf(c) !== clients.length);
  return [
    ['users joined', `${int(clients.length)} / ${int(USERS)}`],
    [
      'time until all joined (history+presence)',
      `${ms(joinMs)} (${int((clients.length / joinMs) * 1000)} joins/s)`,
    ],
    [
      'time until every client sees everyone',
      `${ms(settledMs)} (last presence frame at ${ms(views.lastPresenceFrameAt - started)})`,
    ],
    ...frameRows(storm),
    [
      'presence view check',
      wrongViews ? '**MISMATCH**' : `OK: every client sees all ${int(clients.length)} users`,
    ],
  ];
}

/** Rows about the server during the storm: CPU, memory, event-loop delay, connections. */
async function serverRows(server: BenchServer, result: Result, cpu: CpuMeter, before: number) {
  const load = cpu.read();
  const afterJoin = processMemory(server.pid);
  const metrics = await scrapeMetrics(server.proc.url);
  result.rows.push(
    ['server CPU during storm (of one core)', `${load.server.toFixed(0)} %`],
    ['load generator CPU during storm (of one core)', `${load.loadgen.toFixed(0)} %`],
    [
      'server RSS before / after joins / peak (VmHWM)',
      `${before.toFixed(0)} / ${afterJoin.rss.toFixed(0)} / ${afterJoin.peak.toFixed(0)} MiB`,
    ],
    ['server event-loop delay p99 / max', serverLoopDelay(metrics)],
  );
  result.notes.push(`server /metrics after the joins: ${JSON.stringify(metrics)}`);
  return metrics;
}

/** The room's presence by REST, polled until it is empty (5 s at most); -1 if unreadable. */
async function presenceLeft(server: BenchServer, deadline: Deadline): Promise<number> {
  let left = -1;
  const until = now() + 5000;
  while (now() < until && !deadline.passed) {
    try {
      const response = await fetch(`${server.proc.url}/api/servers/${ROOM}/presence`, {
        signal: AbortSignal.timeout(5000),
      });
      left = ((await response.json()) as string[]).length;
    } catch {
      left = -1;
    }
    if (left === 0) break;
    await sleep(100);
  }
  return left;
}

/** Closes every client; the server must forget them: presence empty, no connections. */
async function closeRows(
  server: BenchServer,
  result: Result,
  clients: BenchClient[],
  deadline: Deadline,
) {
  const closeMs = await closeAll(clients, Math.min(15_000, deadline.left));
  const stillOpen = clients.filter((c) => c.closeCode === undefined).length;
  if (stillOpen)
    result.problems.push(`${stillOpen} client(s) not closed ${int(closeMs)} ms after close()`);
  const left = await presenceLeft(server, deadline);
  const connections = (await scrapeMetrics(server.proc.url)).chatroom_connections;
  result.rows.push(
    ['time to close all', ms(closeMs)],
    ['presence after close (REST) / connections metric', `${left} / ${connections ?? 'n/a'}`],
    [
      'server peak RSS over the scenario (VmHWM)',
      `${processMemory(server.pid).peak.toFixed(0)} MiB`,
    ],
  );
  if (left !== 0)
    result.problems.push(`REST presence still lists ${left} user(s) after every client closed`);
  if ((connections ?? 0) !== 0)
    result.problems.push(`chatroom_connections is ${connections} after every client closed`);
}

async function run(context: ScenarioContext): Promise<void> {
  const { result, deadline } = context;
  const server = await context.startServer();
  console.log(`  ${int(USERS)} users, ${BATCH} concurrent connects per batch`);
  const before = processMemory(server.pid).rss;
  const views = new Views();
  await scrapeMetrics(server.proc.url); // prom-client resets its event-loop delay histogram
  const cpu = new CpuMeter(server.pid);
  const joined = await storm(server, views, deadline);
  const { clients } = joined;
  result.problems.push(...stormProblems(joined, views));
  result.rows.push(...joinRows(joined, views));
  const metrics = await serverRows(server, result, cpu, before);
  if (
    metrics.chatroom_connections !== undefined &&
    metrics.chatroom_connections !== clients.length
  ) {
    result.problems.push(
      `chatroom_connections is ${metrics.chatroom_connections} with ${clients.length} clients connected`,
    );
  }
  await closeRows(server, result, clients, deadline);
  finishServer(result, await stopServer(server));
}

export const joinStorm: Scenario = {
  name: 'join-storm',
  summary: new Set([
    'users joined',
    'time until all joined (history+presence)',
    'time until every client sees everyone',
    'frames received, all clients',
    '… join / leave frames',
    '… presence_diff frames',
    'presence view check',
    'server CPU during storm (of one core)',
    'server event-loop delay p99 / max',
    'server peak RSS over the scenario (VmHWM)',
    'presence after close (REST) / connections metric',
  ]),
  run,
};
