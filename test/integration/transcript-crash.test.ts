/**
 * CONTRACT, "Transcript": "after kill -9 at any moment and a restart, every line is whole JSON
 * equal to the message in REST." A child process edits, deletes and sends in a loop on a real
 * transcript and a real SQLite source (test/fixtures/transcript-rewrites.ts); it is killed with
 * SIGKILL at random moments, round after round (each restart recovers first, so recovery is
 * killed too). Then recovery runs, and every room's transcript must equal the source: whole JSON
 * lines, in id order, each id once.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { HEADER_BYTES, readRedo } from '../../src/store/transcript-redo.ts';
import { tempDir } from '../helpers/chat-server.ts';
import { openTranscripts, transcriptProblem } from '../helpers/transcript-source.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURE = fileURLToPath(new URL('../fixtures/transcript-rewrites.ts', import.meta.url));
const ROUNDS = 12;
/** No new round starts after this long (the machine is shared: rounds vary in length). */
const BUDGET_MS = 60_000;
/** Bound on a child reaching `ready` (a start under tsx on a loaded machine), never a sleep. */
const START_MS = 30_000;

const children: Array<ReturnType<typeof spawn>> = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

/** Starts the fixture, waits for `ready`, lets it run `runMs`, kills it with SIGKILL. */
async function killedRun(dir: string, runMs: number): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, dir], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<string>((resolve) =>
    child.once('exit', (code, signal) => resolve(signal ?? `exit code ${code}`)),
  );
  const ready = new Promise<void>((resolve) => {
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes('ready\n')) resolve();
    });
  });
  const early = await Promise.race([
    ready.then(() => undefined),
    exited,
    new Promise<string>((resolve) => setTimeout(() => resolve('no ready in time'), START_MS)),
  ]);
  if (early !== undefined) {
    child.kill('SIGKILL');
    throw new Error(`the fixture did not start: ${early}\n${stderr}`);
  }
  // The random moment of the crash: this wait is the point of the test, not a stand-in for an event.
  await new Promise((resolve) => setTimeout(resolve, runMs));
  child.kill('SIGKILL');
  const how = await exited;
  expect(how, `the fixture stopped by itself:\n${stderr}`).toBe('SIGKILL');
}

/** Recovery as at start, in this process, then every room checked against the source. */
function recoverAndCheck(dir: string): void {
  const t = openTranscripts(dir);
  try {
    t.sync.recover(t.source.rooms());
    expect(t.sync.behindRooms()).toEqual([]);
    for (const room of t.source.rooms()) {
      expect(transcriptProblem(t.store, t.source, room)).toBeUndefined();
    }
    expect(t.store.roomsWithRewrite()).toEqual([]);
  } finally {
    t.sync.close();
    t.store.close();
    t.source.close();
  }
}

/** What a crash left: a marker, a redo file torn while written, or a complete one. */
function redoKind(file: string): string {
  const state = readRedo(file);
  if (state?.kind === 'complete') return 'complete';
  return fs.statSync(file).size > HEADER_BYTES ? 'torn' : 'marker';
}

it('keeps every transcript equal to the source through kill -9 at random moments', async () => {
  const dir = tempDir();
  const started = Date.now();
  const leftBehind = new Map<string, number>();
  for (let round = 0; round < ROUNDS && Date.now() - started < BUDGET_MS; round++) {
    await killedRun(dir, Math.floor(Math.random() * 400));
    const history = path.join(dir, 'message_history');
    for (const name of fs.readdirSync(history).filter((n) => n.endsWith('.rewrite'))) {
      const kind = redoKind(path.join(history, name));
      leftBehind.set(kind, (leftBehind.get(kind) ?? 0) + 1);
    }
    // Every other round the next child's own start recovers (and may be killed while it does).
    if (round % 2 === 1) recoverAndCheck(dir);
  }
  recoverAndCheck(dir);
  // What the kills left (it varies from run to run): shows which steps the kills landed in.
  console.info(
    'transcript crash test, redo files after the kills:',
    Object.fromEntries(leftBehind),
  );
}, 180_000);
