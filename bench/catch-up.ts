/**
 * What a catch-up and an edit cost in a big room: `npm run bench:catch-up`.
 *
 * Builds one room of CATCHUP_MESSAGES messages [1,000,000] in a temp DATA_DIR through the history
 * service (embedded mode's storage: SQLite and the transcript), takes the client's position at
 * the end, edits CATCHUP_UPDATES messages spread over the whole room [1,000], then times the
 * `since=` replay of a client coming back at that position (no new messages, every edit in
 * `updates`), CATCHUP_RUNS times [20]. Then times edits at the start, the middle and the end of
 * the room, each with its transcript rewrite (the rewrite runs when its delay is over: here at
 * once, a step per turn of the event loop): the time until it is done and the longest the loop
 * was held meanwhile. Every loop is bounded by count.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { HistoryService } from '../src/history/history-service.ts';
import { HISTORY_MESSAGES_MAX_BYTES } from '../src/protocol.ts';
import type { StoredDraft } from '../src/bus/types.ts';
import { envInt } from './lib/env.ts';
import { coresLine, gitLine, int, loadLine, ms } from './lib/format.ts';

const messages = envInt('CATCHUP_MESSAGES', 1_000_000);
const updates = envInt('CATCHUP_UPDATES', 1_000);
const runs = envInt('CATCHUP_RUNS', 20);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chatroom-catch-up-'));
const history = new HistoryService(dir, { editWindowMs: 0, rewriteDelayMs: 0 });
const ts = new Date().toISOString();
const started = performance.now();
for (let sent = 0; sent < messages;) {
  const batch: StoredDraft[] = [];
  for (let i = 0; i < 5000 && sent < messages; i++, sent++) {
    batch.push({
      draft: { serverId: 1, username: `user${sent % 50}`, text: `message ${sent} of a long day` },
      ts,
    });
  }
  history.appendDrafts(batch, ts);
}
const built = performance.now() - started;
const position = history.replay({
  serverId: 1,
  replayCount: 0,
  sinceLimit: 1,
  maxBytes: 1000,
}).lastSeq;
const dedupe = new Date(0).toISOString();
const step = Math.max(1, Math.floor(position / updates));
for (let i = 0, id = 1; i < updates && id <= position; i++, id += step) {
  history.applyChange(
    { kind: 'edit', serverId: 1, id, username: `user${(id - 1) % 50}`, text: `edited ${id}` },
    dedupe,
  );
}
const times: number[] = [];
let got = 0;
for (let run = 0; run < runs; run++) {
  const t0 = performance.now();
  const replay = history.replay({
    serverId: 1,
    since: position,
    replayCount: 50,
    sinceLimit: 1000,
    maxBytes: HISTORY_MESSAGES_MAX_BYTES,
  });
  times.push(performance.now() - t0);
  got = replay.updates.length;
}
times.sort((a, b) => a - b);

/**
 * One edit and its transcript rewrite (from the line of `id` to the end, on the next timer, a
 * step per turn of the event loop): the time until the transcript is rewritten, and the longest
 * the event loop was held meanwhile (what every socket of the process waits at worst).
 */
async function editCost(id: number): Promise<{ total: number; stall: number }> {
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const t0 = performance.now();
  history.applyChange(
    { kind: 'edit', serverId: 1, id, username: `user${(id - 1) % 50}`, text: `again ${id}` },
    dedupe,
  );
  await new Promise((resolve) => setTimeout(resolve, 0));
  await history.transcriptsSettled();
  const total = performance.now() - t0;
  delay.disable();
  return { total, stall: delay.max / 1e6 };
}
const transcriptBytes = fs.statSync(
  path.join(dir, 'message_history', 'server_1_history.jsonl'),
).size;
// the edits above are merged into one rewrite from the first line: let it run first
await new Promise((resolve) => setTimeout(resolve, 0));
await history.transcriptsSettled();
const edits = {
  first: await editCost(1),
  middle: await editCost(Math.floor(position / 2)),
  last: await editCost(position),
};
history.close();
fs.rmSync(dir, { recursive: true, force: true });

console.log(
  `catch-up in a room of ${int(messages)} messages (${new Date().toISOString()}, ${gitLine()})`,
);
console.log(`machine: ${coresLine()}, load ${loadLine()}, Node ${process.version}`);
console.log(`room built in ${ms(built)}; transcript ${int(transcriptBytes / 1024 / 1024)} MiB`);
console.log(
  `since= replay with ${int(got)} updates: median ${ms(times[Math.floor(times.length / 2)]!)}, ` +
    `min ${ms(times[0]!)}, max ${ms(times[times.length - 1]!)} (${runs} runs)`,
);
const cost = ({ total, stall }: { total: number; stall: number }) =>
  `${ms(total)} (event loop held at most ${ms(stall)})`;
console.log(
  `one edit with its transcript rewrite: first line ${cost(edits.first)}, ` +
    `middle ${cost(edits.middle)}, last line ${cost(edits.last)}`,
);
