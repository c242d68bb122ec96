import fs from 'node:fs';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { promisify } from 'node:util';

/**
 * Long file work (a transcript rewrite of a big room) written once as a generator of steps, run
 * either at once (at start, at a clean stop) or a step per turn of the event loop, so that a
 * rewrite of a million lines never holds the loop for more than a few milliseconds. A step asks
 * for a turn (`undefined`) or for a file to be synced (`{ fsync }`: off the loop when run
 * stepwise, in libuv's thread pool).
 */
export type FileStep = undefined | { fsync: number };
export type FileSteps<T> = Generator<FileStep, T, void>;

const fsync = promisify(fs.fsync);

/** Runs every step now. */
export function runSteps<T>(steps: FileSteps<T>): T {
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    if (step.value) fs.fsyncSync(step.value.fsync);
  }
}

/** Stopped because `cancelled` said so: the work's files were closed where it stood. */
export class StepsCancelled extends Error {
  override readonly name = 'StepsCancelled';
  constructor() {
    super('file work cancelled');
  }
}

/**
 * Runs the steps one turn of the event loop apart. Once `cancelled()` is true the generator is
 * ended where it stands (its `finally` blocks close its files) and `StepsCancelled` is thrown.
 */
export async function runStepwise<T>(steps: FileSteps<T>, cancelled: () => boolean): Promise<T> {
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    if (step.value) await fsync(step.value.fsync);
    else await nextTurn();
    if (cancelled()) {
      steps.return(undefined as T);
      throw new StepsCancelled();
    }
  }
}
