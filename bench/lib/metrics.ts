/** Figures the server publishes on its Prometheus `/metrics` page. */
import { ms } from './format.ts';

/** The `names` found on `${url}/metrics`, each summed over its labels; throws if unreadable. */
export async function readMetrics(
  url: string,
  names: readonly string[],
): Promise<Record<string, number>> {
  const response = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5000) });
  const text = await response.text();
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const match = /^(\w+)(\{[^}]*\})?\s+(\S+)$/.exec(line);
    if (match && names.includes(match[1]!)) {
      out[match[1]!] = (out[match[1]!] ?? 0) + Number(match[3]);
    }
  }
  return out;
}

/** The counters `npm run bench` reports. */
const BENCH_METRICS = [
  'chatroom_connections',
  'chatroom_messages_in_total',
  'chatroom_messages_out_total',
  'chatroom_slow_clients_closed_total',
  'chatroom_errors_total',
  'nodejs_eventloop_lag_p99_seconds',
  'nodejs_eventloop_lag_max_seconds',
];

/**
 * The counters the scenarios report; `scrape_failed: 1` when the page could not be read.
 * prom-client resets its event-loop delay histogram on every scrape.
 */
export async function scrapeMetrics(url: string): Promise<Record<string, number>> {
  try {
    return await readMetrics(url, BENCH_METRICS);
  } catch (error) {
    console.error(`  ! could not read /metrics: ${(error as Error).message}`);
    return { scrape_failed: 1 };
  }
}

/** The server's event-loop delay p99 / max since the previous scrape. */
export function serverLoopDelay(metrics: Record<string, number>): string {
  const p99 = metrics.nodejs_eventloop_lag_p99_seconds;
  const max = metrics.nodejs_eventloop_lag_max_seconds;
  if (p99 === undefined || max === undefined) return 'n/a';
  return `${ms(p99 * 1000)} / ${ms(max * 1000)}`;
}
