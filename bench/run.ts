/**
 * Load generator for the embedded-mode server: `npm run bench [fanout|throughput|join-storm]`
 * (no argument: all three, one after the other, each against a fresh server).
 *
 * The server under test is its own process (a temp DATA_DIR, RATE_LIMIT=0, LOG_LEVEL=warn), so
 * the load generator does not share its event loop. Clients are plain `ws` sockets to 127.0.0.1.
 * Every loop is bounded by a count and by the scenario's hard deadline; a scenario that hits its
 * deadline stops and reports what it has. Each scenario is a file of bench/scenarios/; the tools
 * they share are in bench/lib/.
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
import os from 'node:os';
import { cutOpenSockets } from './lib/client.ts';
import { envInt, usageError } from './lib/env.ts';
import { coresLine, gitLine, loadLine } from './lib/format.ts';
import { newResult, printProblems, printResult, summaryTable } from './lib/report.ts';
import type { Result } from './lib/report.ts';
import type { Scenario } from './lib/scenario.ts';
import { disposeServer, startServer } from './lib/server.ts';
import type { BenchServer } from './lib/server.ts';
import { Deadline } from './lib/time.ts';
import { fanout } from './scenarios/fanout.ts';
import { joinStorm } from './scenarios/join-storm.ts';
import { throughput } from './scenarios/throughput.ts';

const DEADLINE_MS = envInt('BENCH_DEADLINE', 60) * 1000;
const SCENARIOS = new Map<string, Scenario>(
  [fanout, throughput, joinStorm].map((s) => [s.name, s]),
);

/** Resolves 'timeout' after `ms`, unless `cancel` is called first. */
function hardStop(ms: number): { expired: Promise<'timeout'>; cancel(): void } {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  return { expired, cancel: () => clearTimeout(timer) };
}

/** Runs one scenario against a fresh server; whatever happens, cuts its sockets and server. */
async function runScenario(scenario: Scenario): Promise<Result> {
  const result = newResult(scenario.name);
  const deadline = new Deadline(DEADLINE_MS);
  let server: BenchServer | undefined;
  console.log(`\n## ${scenario.name}`);
  // the scenario's own loops stop at the deadline; this catches anything that still hangs
  const stop = hardStop(DEADLINE_MS + 20_000);
  const startBenchServer = async () => {
    // every load-generator client comes from 127.0.0.1: no per-address connection limit
    server = await startServer({ env: { CONNECTIONS_PER_ADDRESS: '0' } });
    return server;
  };
  try {
    const run = scenario.run({ result, deadline, startServer: startBenchServer });
    if ((await Promise.race([run, stop.expired])) === 'timeout')
      result.problems.push('scenario hung past its hard deadline; cut off');
  } catch (error) {
    result.problems.push(`scenario failed: ${(error as Error).stack ?? String(error)}`);
  } finally {
    stop.cancel();
    if (deadline.passed) result.notes.push(`hit the ${DEADLINE_MS / 1000} s hard deadline`);
    cutOpenSockets();
    if (server) await disposeServer(server);
  }
  printResult(result);
  return result;
}

/** The scenarios named on the command line: one, or all of them. */
function chosenScenarios(): Scenario[] {
  const arg = process.argv[2];
  if (arg === undefined) return [...SCENARIOS.values()];
  const scenario = SCENARIOS.get(arg);
  if (scenario) return [scenario];
  return usageError(
    `unknown scenario "${arg}"; expected one of ${[...SCENARIOS.keys()].join(', ')}`,
  );
}

/** The summary table's heading: when, on what machine, at which commit, under what load. */
function tableHeading(started: Date, loadBefore: string): string[] {
  const stamp = started.toISOString().slice(0, 16).replace('T', ' ');
  return [
    '',
    `### Benchmark results (embedded mode), ${stamp} UTC`,
    '',
    `Node ${process.version}, ${coresLine()}, ` +
      `${(os.totalmem() / 2 ** 30).toFixed(0)} GiB; load generator and server on the same machine, ` +
      `server in its own process; ${gitLine()}. ` +
      `Load average (1/5/15 min) before: ${loadBefore}; after: ${loadLine()}.`,
    '',
  ];
}

async function main(): Promise<void> {
  const scenarios = chosenScenarios();
  const loadBefore = loadLine();
  const started = new Date();
  console.log(`# chatroom bench, ${started.toISOString()}`);
  console.log(`load average before (1/5/15 min): ${loadBefore}`);
  const results: Result[] = [];
  for (const scenario of scenarios) results.push(await runScenario(scenario));
  const summaryOf = (name: string) => SCENARIOS.get(name)!.summary;
  console.log(
    [...tableHeading(started, loadBefore), ...summaryTable(results, summaryOf)].join('\n'),
  );
  printProblems(results);
}

await main();
