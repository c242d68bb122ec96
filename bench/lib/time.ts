/** Clocks, pauses and deadlines: every loop of the bench is bounded by one. */

export const now = () => performance.now();

export const sleep = (ms: number) =>
  new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** A point in time a scenario must not run past. */
export class Deadline {
  readonly at: number;
  constructor(ms: number) {
    this.at = now() + ms;
  }
  get left(): number {
    return Math.max(0, this.at - now());
  }
  get passed(): boolean {
    return now() >= this.at;
  }
}

/** Polls `done` every `every` ms until it holds, `ms` pass, or the deadline passes. */
export async function waitFor(
  done: () => boolean,
  ms: number,
  deadline?: Deadline,
  every = 20,
): Promise<boolean> {
  const until = Math.min(now() + ms, deadline?.at ?? Infinity);
  while (!done()) {
    if (now() >= until) return false;
    await sleep(every);
  }
  return true;
}
