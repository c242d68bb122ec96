/**
 * What a search costs among a million messages: `npm run bench:search`.
 *
 * Writes SEARCH_MESSAGES messages [1,000,000] over 10 public rooms into a database of the schema
 * before the search index (plain SQL, in a temp DATA_DIR), then opens it with the history
 * service, whose migration builds the index: that time is the upgrade's. The texts are 6 to 14
 * words of a skewed vocabulary of 5,000, plus planted words: `lorem` in every 10th message,
 * `red zebra` in every 1,000th, `quokka` in every 10,000th; a room `tiny` holds 10 messages
 * without them. Then times each query SEARCH_RUNS times [20] (first page of 20, what the route
 * asks of storage, without HTTP), and the cost of the index on writing: batches of 1,000
 * messages with and without its trigger. Every loop is bounded by count.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { StoredDraft } from '../src/bus/types.ts';
import { HistoryService } from '../src/history/history-service.ts';
import { migrate, SCHEMA_VERSION } from '../src/store/migrations.ts';
import { envInt } from './lib/env.ts';
import { coresLine, gitLine, int, loadLine, mib, ms } from './lib/format.ts';

const messages = envInt('SEARCH_MESSAGES', 1_000_000);
const runs = envInt('SEARCH_RUNS', 20);
const ROOMS = 10;
const TINY = ROOMS + 2; // general is 1, then room-1 .. room-10, then tiny

/** A linear congruential generator (Numerical Recipes): the same texts on every run. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const next = random(42);
const LETTERS = 'abcdefghijklmnopqrstuvwxyz';
const vocabulary = Array.from({ length: 5000 }, () => {
  const length = 3 + Math.floor(next() * 7);
  return Array.from({ length }, () => LETTERS[Math.floor(next() * 26)]).join('');
});

function text(n: number): string {
  const words = Array.from(
    { length: 6 + Math.floor(next() * 9) },
    // skewed: a few words are in many messages, most in few
    () => vocabulary[Math.floor(vocabulary.length * next() ** 3)],
  );
  if (n % 10 === 0) words.push('lorem');
  if (n % 1000 === 0) words.push('red', 'zebra');
  if (n % 10_000 === 0) words.push('quokka');
  return words.join(' ');
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chatroom-search-'));
const file = path.join(dir, 'chatroom.db');
const db = new Database(file);
db.pragma('journal_mode = WAL');
migrate(db, SCHEMA_VERSION - 1);
const ts = new Date().toISOString();
const written = performance.now();
db.transaction(() => {
  const room = db.prepare<[string, string, string]>(
    'INSERT INTO rooms (name, name_key, created_at) VALUES (?, ?, ?)',
  );
  for (let r = 1; r <= ROOMS; r++) room.run(`room-${r}`, `room-${r}`, ts);
  room.run('tiny', 'tiny', ts);
  const insert = db.prepare<[number, number, string, string, string, number]>(
    'INSERT INTO messages (id, server_id, username, text, ts, seq) VALUES (?, ?, ?, ?, ?, ?)',
  );
  for (let n = 1; n <= messages; n++) {
    // rooms by a hash of n: by n % ROOMS every 10th message (lorem) would be in one room
    const room = 2 + ((Math.imul(n, 0x9e3779b1) >>> 0) % ROOMS);
    insert.run(n, room, `user${n % 50}`, text(n), ts, n);
  }
  for (let n = messages + 1; n <= messages + 10; n++) {
    insert.run(n, TINY, 'tim', `tiny ${n}`, ts, n);
  }
})();
db.close();
const writeMs = performance.now() - written;

const opened = performance.now();
const history = new HistoryService(dir);
const migrationMs = performance.now() - opened;
const last = messages + 10;

const QUERIES: Array<[string, string, number?]> = [
  ['a word in 10 % of messages', 'lorem'],
  ['a word in 100 messages', 'quokka'],
  ['a phrase in 1,000 messages', '"red zebra"'],
  ['a prefix of 3 (lor*: the prefix index)', 'lor*'],
  ['a prefix of 4 (lore*: terms merged)', 'lore*'],
  ['two words: 10 % and 100', 'lorem quokka'],
  ['from: alone (2 % of messages)', 'from:user7'],
  ['a word in one room of 10', 'lorem in:room-3'],
  ['a word none of a room has (in:tiny)', 'lorem in:tiny'],
  ['a word absent everywhere', 'nowhereword'],
  ['page 2,500 of lorem (before= the middle)', 'lorem', Math.floor(messages / 2)],
];

const timings = QUERIES.map(([what, q, before]) => {
  const times: number[] = [];
  let found = 0;
  for (let run = 0; run < runs; run++) {
    const t0 = performance.now();
    found = history.search({ q, viewer: null, limit: 20, before }).results.length;
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { what, q, found, median: times[Math.floor(times.length / 2)]!, max: times.at(-1)! };
});

/** Appends a batch of 1,000 messages; answers how long it took. */
function appendBatch(): number {
  const drafts: StoredDraft[] = Array.from({ length: 1000 }, (_, i) => ({
    draft: { serverId: 2, username: 'writer', text: text(i + 1) },
    ts,
  }));
  const t0 = performance.now();
  history.appendDrafts(drafts, ts);
  return performance.now() - t0;
}
// with and without the index's insert trigger, in turns (the same warm-up for both)
const raw = new Database(file);
const trigger = raw
  .prepare<[], { sql: string }>("SELECT sql FROM sqlite_schema WHERE name = 'messages_fts_insert'")
  .get()!.sql;
const batches = { with: [] as number[], without: [] as number[] };
raw.exec('DROP TRIGGER messages_fts_insert');
for (let turn = 0; turn < 20; turn++) {
  const indexed = turn % 2 === 0;
  raw.exec(indexed ? trigger : 'DROP TRIGGER messages_fts_insert');
  (indexed ? batches.with : batches.without).push(appendBatch());
}
/** Median, mean and max of a batch's times. */
function summary(values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
  return `median ${ms(sorted[sorted.length >> 1]!)}, mean ${ms(mean)}, max ${ms(sorted.at(-1)!)}`;
}
let ftsBytes = Number.NaN;
try {
  ftsBytes =
    raw
      .prepare<[], { bytes: number }>(
        "SELECT sum(pgsize) AS bytes FROM dbstat WHERE name LIKE 'messages_fts%'",
      )
      .get()?.bytes ?? Number.NaN;
} catch {
  // dbstat not compiled in: the size is left out
}
raw.close();
history.close();
const dbBytes = fs.statSync(file).size;
fs.rmSync(dir, { recursive: true, force: true });

console.log(`search among ${int(last)} messages (${new Date().toISOString()}, ${gitLine()})`);
console.log(`machine: ${coresLine()}, load ${loadLine()}, Node ${process.version}`);
console.log(
  `written in ${ms(writeMs)}; the migration indexed them in ${ms(migrationMs)}; database ` +
    `${mib(dbBytes / 1024 / 1024)}, of which the index ${mib(ftsBytes / 1024 / 1024)}`,
);
for (const { what, q, found, median, max } of timings) {
  console.log(`${what} [${q}]: ${found} results, median ${ms(median)}, max ${ms(max)}`);
}
console.log(`appending 1,000 messages (10 batches each, with the transcript):`);
console.log(`  with the index: ${summary(batches.with)}`);
console.log(`  without it: ${summary(batches.without)}`);
