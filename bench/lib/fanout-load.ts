/**
 * One fan-out workload against one server: rooms of clients, some of them sending at a fixed
 * rate, every client receiving every message of its room. Counts what a user would notice —
 * messages lost, duplicated or out of order per sender — and measures the latency of every
 * delivery and the server's CPU time per delivery. Every loop is bounded by count and deadline.
 */
import type { BenchClient } from './client.ts';
import { joinAll, sentAt, stamp } from './client.ts';
import { processCpuSeconds, processMemory } from './proc.ts';
import { Samples } from './stats.ts';
import type { LatencySummary } from './stats.ts';
import type { Deadline } from './time.ts';
import { now, sleep, waitFor } from './time.ts';

export interface FanoutLoad {
  rooms: number[];
  /** Clients per room; the first `senders` of each room also send. */
  clientsPerRoom: number;
  sendersPerRoom: number;
  /** Messages per second into each room, its senders together. */
  ratePerRoom: number;
  seconds: number;
}

export interface FanoutResult {
  sent: number;
  delivered: number;
  expected: number;
  lost: number;
  duplicated: number;
  outOfOrder: number;
  latency: LatencySummary;
  /** Server CPU time per delivered message, µs (send phase and drain). */
  cpuPerDelivery: number;
  peakRssMiB: number;
  joinFailures: number;
}

/** What one receiving client saw, per sender of its room. */
class Receiver {
  readonly last: Int32Array;
  received = 0;
  duplicated = 0;
  outOfOrder = 0;
  constructor(senders: number) {
    this.last = new Int32Array(senders).fill(-1);
  }
  see(sender: number, seq: number): void {
    const last = this.last[sender]!;
    if (seq === last) this.duplicated++;
    else if (seq < last) this.outOfOrder++;
    else {
      this.received++;
      this.last[sender] = seq;
    }
  }
}

/** Runs the load against `wsUrl` (the server's process is `pid`). */
export async function runFanout(
  wsUrl: string,
  pid: number,
  load: FanoutLoad,
  deadline: Deadline,
): Promise<FanoutResult> {
  const latencies = new Samples();
  const receivers: Receiver[] = [];
  const senders: BenchClient[][] = [];
  let joinFailures = 0;
  const all: BenchClient[] = [];
  for (const [r, room] of load.rooms.entries()) {
    const names = Array.from({ length: load.clientsPerRoom }, (_, i) => `r${room}c${i}`);
    const { clients, failures } = await joinAll(wsUrl, names, {
      batch: 50,
      deadline,
      room,
      setup: (client) => {
        const receiver = new Receiver(load.sendersPerRoom);
        receivers.push(receiver);
        client.onMessage = (_id, text) => {
          const [sender, seq] = text.split(':', 2).map(Number) as [number, number];
          receiver.see(sender, seq);
          latencies.add(now() - sentAt(text));
        };
      },
    });
    joinFailures += failures.length;
    all.push(...clients);
    senders[r] = clients.slice(0, load.sendersPerRoom);
  }
  const perRoom = Math.round(load.ratePerRoom * load.seconds);
  const cpuBefore = processCpuSeconds(pid);
  const started = now();
  // a tick every 10 ms sends what the rate owes by then, round-robin over each room's senders
  let sentPerRoom = 0;
  while (sentPerRoom < perRoom && !deadline.passed) {
    const owed = Math.min(perRoom, Math.floor(((now() - started) / 1000) * load.ratePerRoom));
    for (; sentPerRoom < owed; sentPerRoom++) {
      for (const roomSenders of senders) {
        const index = sentPerRoom % roomSenders.length;
        const seq = Math.floor(sentPerRoom / roomSenders.length);
        roomSenders[index]!.send({ type: 'message', text: stamp(index, seq, now()) });
      }
    }
    await sleep(10);
  }
  const sent = sentPerRoom * senders.length;
  const expected = sentPerRoom * all.length;
  const delivered = () => receivers.reduce((sum, r) => sum + r.received, 0);
  await waitFor(() => delivered() >= expected, 10_000, deadline);
  const cpu = processCpuSeconds(pid) - cpuBefore;
  for (const client of all) client.close();
  const got = delivered();
  return {
    sent,
    delivered: got,
    expected,
    lost: expected - got,
    duplicated: receivers.reduce((sum, r) => sum + r.duplicated, 0),
    outOfOrder: receivers.reduce((sum, r) => sum + r.outOfOrder, 0),
    latency: latencies.summary(),
    cpuPerDelivery: (cpu * 1e6) / Math.max(1, got),
    peakRssMiB: processMemory(pid).peak,
    joinFailures,
  };
}

/** Creates rooms 2…n+1 on a chatroom server (the baseline makes rooms as they are joined). */
export async function makeRooms(url: string, count: number): Promise<number[]> {
  const ids: number[] = [1];
  for (let i = 2; ids.length < count; i++) {
    const response = await fetch(`${url}/api/servers`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: url },
      body: JSON.stringify({ name: `bench-${i}` }),
    });
    if (response.status !== 201) throw new Error(`room ${i}: ${response.status}`);
    ids.push(((await response.json()) as { id: number }).id);
    await sleep(0);
  }
  return ids;
}
