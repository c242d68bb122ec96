/** Latency samples and their percentiles. */

/** The nearest-rank percentile of sorted values; NaN when there are none. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))]!;
}

export interface LatencySummary {
  p50: number;
  p95: number;
  p99: number;
  max: number;
  n: number;
}

/** A growable list of latency samples (ms), kept in typed arrays to stay light at 1 M samples. */
export class Samples {
  private data = new Float64Array(1024);
  length = 0;

  add(value: number): void {
    if (this.length === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = value;
  }

  summary(): LatencySummary {
    const sorted = this.data.slice(0, this.length).sort();
    return {
      p50: percentile(sorted, 50),
      p95: percentile(sorted, 95),
      p99: percentile(sorted, 99),
      max: sorted.length ? sorted[sorted.length - 1]! : NaN,
      n: sorted.length,
    };
  }
}
