/** A process's CPU time and memory, read from /proc (Linux). */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

function clockTicks(): number {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
}
const CLK_TCK = clockTicks();

/** CPU seconds (user + system) the process has used so far, from /proc; NaN if unreadable. */
export function processCpuSeconds(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // fields after the ")" that ends the command name: state is field 3, utime 14, stime 15
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return NaN;
  }
}

/** VmRSS and VmHWM (peak RSS) in MiB from /proc/<pid>/status; NaN if unreadable. */
export function processMemory(pid: number): { rss: number; peak: number } {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
    return { rss: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024 };
  } catch {
    return { rss: NaN, peak: NaN };
  }
}

/** CPU use of this process and of another (the server) over a stretch of time, as % of one core. */
export class CpuMeter {
  private readonly started = performance.now();
  private readonly self = process.cpuUsage();
  private readonly server: number;

  constructor(private readonly pid: number) {
    this.server = processCpuSeconds(pid);
  }

  read(): { server: number; loadgen: number } {
    const wall = (performance.now() - this.started) / 1000;
    const self = process.cpuUsage(this.self);
    return {
      server: ((processCpuSeconds(this.pid) - this.server) / wall) * 100,
      loadgen: ((self.user + self.system) / 1e6 / wall) * 100,
    };
  }
}
