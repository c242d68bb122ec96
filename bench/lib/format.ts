/** How figures are written, and the lines that say where and when they were measured. */
import { execFileSync } from 'node:child_process';
import os from 'node:os';

export const ms = (value: number) => (Number.isFinite(value) ? `${value.toFixed(1)} ms` : 'n/a');
/** Several durations in ms, as `1.0 ms / 5.2 ms / 19.9 ms`. */
export const msList = (...values: number[]) => values.map(ms).join(' / ');
export const int = (value: number) => Math.round(value).toLocaleString('en-US');
export const mib = (value: number) => (Number.isFinite(value) ? `${value.toFixed(0)} MiB` : 'n/a');

/** The load average over 1, 5 and 15 minutes, as `0.52 0.58 0.59`. */
export function loadLine(): string {
  return os
    .loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');
}

/** The machine's cores and CPU model, as `2 cores (AMD EPYC)`. */
export function coresLine(): string {
  return `${os.cpus().length} cores (${os.cpus()[0]?.model.trim() ?? 'unknown CPU'})`;
}

/** The commit measured, and whether the working tree's src/ differed from it. */
export function gitLine(): string {
  try {
    const git = (...args: string[]) =>
      execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const changed = git('status', '--porcelain', '--', 'src').split('\n').filter(Boolean).length;
    return `commit ${git('rev-parse', '--short', 'HEAD')}${changed ? ` + ${changed} uncommitted change(s) in src/` : ''}`;
  } catch {
    return 'commit unknown';
  }
}
