/**
 * Failed logins counted per key (a username's name key, a client address) in a sliding window:
 * past `max` failures within `windowMs` the key is limited until its oldest failure leaves the
 * window.
 */
export class FailureWindow {
  private readonly failures = new Map<string, number[]>();

  constructor(
    readonly max: number,
    readonly windowMs: number,
    /** Keys kept at most; past it, keys whose failures all left the window are dropped. */
    private readonly maxKeys = 100_000,
  ) {}

  /** Milliseconds until the key may try again; 0 when it may now. */
  retryAfterMs(key: string, now: number): number {
    const times = this.recent(key, now);
    if (times.length < this.max) return 0;
    return times[times.length - this.max]! + this.windowMs - now;
  }

  fail(key: string, now: number): void {
    const times = this.recent(key, now);
    times.push(now);
    // only the newest `max` matter: the limit lifts when the oldest of them leaves the window
    if (times.length > this.max) times.shift();
    this.failures.set(key, times);
    if (this.failures.size > this.maxKeys) this.prune(now);
  }

  clear(key: string): void {
    this.failures.delete(key);
  }

  /** Takes back the failure counted at `at` (the attempt turned out right). */
  forgive(key: string, at: number): void {
    const times = this.failures.get(key);
    const index = times?.lastIndexOf(at) ?? -1;
    if (index !== -1) times!.splice(index, 1);
  }

  private recent(key: string, now: number): number[] {
    const times = this.failures.get(key);
    if (!times) return [];
    const from = now - this.windowMs;
    while (times.length > 0 && times[0]! <= from) times.shift();
    if (times.length === 0) this.failures.delete(key);
    return times;
  }

  private prune(now: number): void {
    for (const key of [...this.failures.keys()]) this.recent(key, now);
  }
}
