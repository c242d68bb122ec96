/**
 * What unread counts cost in a big room: `npm run bench:unread`.
 *
 * 1. Storage (in this process, embedded mode's store): one public room of UNREAD_MEMBERS members
 *    [5,000] and UNREAD_MESSAGES messages [20,000]. Times the batch of counts a gateway asks for
 *    after a message, for the online half [2,500]: every member caught up but the newest
 *    message, and every member 1,000 or more behind (the counts stop at 1,000); and what storing
 *    a message costs when it mentions `@room` or ten members by name, against a plain one.
 * 2. End to end (embedded mode, its own process, AUTH=open): the same room with UNREAD_ONLINE
 *    [2,500] members connected and as many who joined and left; one sender sends
 *    UNREAD_RATE [10] messages a second for UNREAD_SECONDS [10] s. Reports the server's CPU,
 *    the `unread` frames each connection got, how long the first took after the first message,
 *    and, from `/metrics`, the requests for counts and the (user, room) pairs they counted.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { StoredDraft } from '../src/bus/types.ts';
import { HistoryService } from '../src/history/history-service.ts';
import { ReadersService } from '../src/history/readers-service.ts';
import { closeAll, cutOpenSockets, joinAll } from './lib/client.ts';
import type { BenchClient } from './lib/client.ts';
import { envInt } from './lib/env.ts';
import { coresLine, gitLine, int, loadLine, ms } from './lib/format.ts';
import { readMetrics } from './lib/metrics.ts';
import { CpuMeter } from './lib/proc.ts';
import { startServer, stopProcess } from './lib/server.ts';
import { percentile } from './lib/stats.ts';
import { sleep } from './lib/time.ts';

const members = envInt('UNREAD_MEMBERS', 5000);
const messages = envInt('UNREAD_MESSAGES', 20_000);
const online = envInt('UNREAD_ONLINE', 2500);
const rate = envInt('UNREAD_RATE', 10);
const seconds = envInt('UNREAD_SECONDS', 10);
const RUNS = 5;

const memberName = (i: number) => `member${i}`;

/** The median of `runs` timings of `work`, in ms. */
function median(runs: number, work: () => void): number {
  const times: number[] = [];
  for (let run = 0; run < runs; run++) {
    const t0 = performance.now();
    work();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

function storageCosts(): Array<[string, string]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chatroom-unread-'));
  const history = new HistoryService(dir);
  try {
    for (let i = 0; i < members; i++) {
      history.accounts.apply({ type: 'room_joined', server_id: 1, username: memberName(i) });
    }
    const ts = new Date().toISOString();
    for (let sent = 0; sent < messages;) {
      const batch: StoredDraft[] = [];
      for (let i = 0; i < 1000 && sent < messages; i++, sent++) {
        batch.push({ draft: { serverId: 1, username: 'sender', text: `message ${sent}` }, ts });
      }
      history.appendDrafts(batch, ts);
    }
    const newest = history.readers.newest(1);
    const half = Array.from({ length: online }, (_, i) => memberName(i));
    // caught up but the newest message
    history.accounts.apply({
      type: 'markers_moved',
      markers: half.map((username) => ({ server_id: 1, username, id: newest - 1 })),
      join: false,
    });
    // what a gateway's batch asks storage for: one request, these pairs
    const readers = ReadersService.over(history, (event) =>
      Promise.resolve(history.accounts.apply(event)),
    );
    const caughtUp = median(RUNS, () => readers.counts(half.map((name) => [name, 1] as const)));
    const behind = Array.from(
      { length: online },
      (_, i) => [memberName(members - 1 - i), 1] as const,
    );
    const far = median(RUNS, () => readers.counts(behind));
    const store = (text: string) =>
      median(RUNS * 4, () =>
        history.appendDrafts([{ draft: { serverId: 1, username: 'sender', text }, ts }], ts),
      );
    const plain = store('a plain message');
    const room = store('@room lunch is ready');
    const named = store(
      Array.from({ length: 10 }, (_, i) => `@${memberName(i * 7)}`).join(' ') + ' see this',
    );
    return [
      [
        `counts of ${int(online)} members, each 1 unread`,
        `${ms(caughtUp)} (${((caughtUp * 1000) / online).toFixed(1)} µs each)`,
      ],
      [
        `counts of ${int(online)} members, each 1,000+ unread`,
        `${ms(far)} (${((far * 1000) / online).toFixed(1)} µs each)`,
      ],
      ['store a plain message', ms(plain)],
      ['store a message with @room', ms(room)],
      [`store a message naming 10 of ${int(members)} users`, ms(named)],
    ];
  } finally {
    history.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

interface Watch {
  frames: number;
  first: number | undefined;
}

async function endToEnd(): Promise<Array<[string, string]>> {
  const server = await startServer({
    prefix: 'chatroom-bench-unread-',
    env: { CONNECTIONS_PER_ADDRESS: '0' },
  });
  const { url } = server.proc;
  const wsUrl = url.replace(/^http/, 'ws');
  try {
    // members who joined and left: counted, offline
    const gone = await joinAll(
      wsUrl,
      Array.from({ length: members - online }, (_, i) => memberName(online + i)),
      { batch: 50 },
    );
    await closeAll(gone.clients, 10_000);
    const watches = new Map<BenchClient, Watch>();
    let firstSent = 0;
    const { clients, failures } = await joinAll(
      wsUrl,
      Array.from({ length: online }, (_, i) => memberName(i)),
      {
        batch: 50,
        setup: (client) => {
          const watch: Watch = { frames: 0, first: undefined };
          watches.set(client, watch);
          client.onMessage = 'count';
          client.onFrame = (frame) => {
            if (frame.type !== 'unread' || firstSent === 0) return;
            watch.frames++;
            watch.first ??= performance.now() - firstSent;
          };
        },
      },
    );
    const [sender] = (await joinAll(wsUrl, ['sender'], { batch: 1 })).clients;
    const before = await readMetrics(url, [
      'chatroom_unread_requests_total',
      'chatroom_unread_pairs_total',
    ]);
    const cpu = new CpuMeter(server.pid);
    firstSent = performance.now();
    const total = rate * seconds;
    for (let i = 0; i < total; i++) {
      sender!.send({ type: 'message', text: `news ${i}` });
      await sleep(1000 / rate);
    }
    await sleep(2500);
    const used = cpu.read();
    const after = await readMetrics(url, [
      'chatroom_unread_requests_total',
      'chatroom_unread_pairs_total',
    ]);
    const firsts = [...watches.values()].flatMap((w) => (w.first === undefined ? [] : [w.first]));
    firsts.sort((a, b) => a - b);
    const frames = [...watches.values()].map((w) => w.frames).sort((a, b) => a - b);
    const requests =
      (after.chatroom_unread_requests_total ?? 0) - (before.chatroom_unread_requests_total ?? 0);
    const pairs =
      (after.chatroom_unread_pairs_total ?? 0) - (before.chatroom_unread_pairs_total ?? 0);
    await closeAll(clients, 10_000);
    return [
      ['connections (failed)', `${int(clients.length)} (${failures.length})`],
      ['messages sent', `${int(total)} in ${seconds} s`],
      ['message frames out', int(total * clients.length)],
      [
        'unread frames per connection (min / median / max)',
        `${frames[0]} / ${percentile(Float64Array.from(frames), 50)} / ${frames[frames.length - 1]}`,
      ],
      [
        'first unread frame after the first message (p50 / max)',
        `${ms(percentile(Float64Array.from(firsts), 50))} / ${ms(firsts[firsts.length - 1] ?? NaN)}`,
      ],
      ['requests for counts to storage', int(requests)],
      ['(user, room) pairs counted', `${int(pairs)} (${(pairs / total).toFixed(0)} per message)`],
      ['server CPU while sending', `${used.server.toFixed(0)} % of a core`],
    ];
  } finally {
    cutOpenSockets();
    await stopProcess(server.proc);
    fs.rmSync(server.dataDir, { recursive: true, force: true });
  }
}

function print(title: string, rows: Array<[string, string]>): void {
  console.log(`\n${title}`);
  for (const [metric, value] of rows) console.log(`  ${metric.padEnd(58)} ${value}`);
}

console.log(`bench:unread  ${gitLine()}  ${coresLine()}  ${loadLine()}`);
print(`storage: one room, ${int(members)} members, ${int(messages)} messages`, storageCosts());
print(
  `end to end (embedded): ${int(online)} of ${int(members)} members online, ${rate} msg/s`,
  await endToEnd(),
);
