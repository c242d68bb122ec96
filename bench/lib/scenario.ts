/**
 * What a scenario of `npm run bench` is, and the closing steps the scenarios share: the
 * server's CPU, memory and metrics, its transcript, and how it stopped.
 */
import { CLOSE } from '../../src/protocol.ts';
import { int } from './format.ts';
import { scrapeMetrics, serverLoopDelay } from './metrics.ts';
import { processMemory } from './proc.ts';
import type { CpuMeter } from './proc.ts';
import type { Result } from './report.ts';
import { ROOM } from './client.ts';
import { stopServer, transcriptLines } from './server.ts';
import type { BenchServer } from './server.ts';
import type { Deadline } from './time.ts';

export interface ScenarioContext {
  result: Result;
  /** The scenario's own loops stop at it and report what they have. */
  deadline: Deadline;
  /** Starts the embedded server under test; the runner stops it if the scenario does not. */
  startServer(): Promise<BenchServer>;
}

export interface Scenario {
  name: string;
  /** The metrics of this scenario that go into the final table (every row is in its section). */
  summary: ReadonlySet<string>;
  run(context: ScenarioContext): Promise<void>;
}

/** Rows about the server under load: CPU since `cpu` started, memory, event-loop delay. */
export async function serverReport(
  server: BenchServer,
  result: Result,
  cpu: CpuMeter,
): Promise<void> {
  const load = cpu.read();
  result.rows.push(['server CPU (of one core)', `${load.server.toFixed(0)} %`]);
  result.rows.push(['load generator CPU (of one core)', `${load.loadgen.toFixed(0)} %`]);
  const metrics = await scrapeMetrics(server.proc.url);
  const mem = processMemory(server.pid);
  result.rows.push([
    'server RSS now / peak (VmHWM)',
    `${mem.rss.toFixed(0)} / ${mem.peak.toFixed(0)} MiB`,
  ]);
  result.rows.push(['server event-loop delay p99 / max', serverLoopDelay(metrics)]);
  const slow = metrics.chatroom_slow_clients_closed_total ?? 0;
  if (slow > 0) result.problems.push(`server closed ${slow} slow client(s) (${CLOSE.tooSlow})`);
  result.notes.push(`server /metrics: ${JSON.stringify(metrics)}`);
}

/** Stops the server and checks that its transcript has one line per acked message. */
export async function stopAndCheckTranscript(
  server: BenchServer,
  result: Result,
  acked: number,
): Promise<void> {
  const stop = await stopServer(server);
  const lines = transcriptLines(server.dataDir, ROOM);
  result.rows.push([
    'transcript lines after stop (expected acked)',
    `${int(lines)} (${int(acked)})`,
  ]);
  if (lines !== acked)
    result.problems.push(`transcript has ${lines} lines, ${acked} messages were acked`);
  finishServer(result, stop);
}

/** The server's exit on SIGTERM, and any warning or error it logged. */
export function finishServer(result: Result, stop: { exit: string; log: string[] }): void {
  result.rows.push(['server exit on SIGTERM', stop.exit]);
  if (stop.exit !== '0') result.problems.push(`server exited with ${stop.exit} on SIGTERM`);
  // LOG_LEVEL=warn: pino lines are warnings or errors; plain lines are the server's own notices
  const bad = stop.log.filter((line) =>
    /"level":\s*[4-6]0|error|warn|exception|unhandled/i.test(line),
  );
  if (bad.length) result.problems.push(`server logged ${bad.length} warning/error line(s)`);
  result.notes.push(...stop.log.slice(0, 10).map((line) => `server output: ${line.slice(0, 300)}`));
}
