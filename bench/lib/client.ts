/**
 * The load generator's clients: bare `ws` sockets to 127.0.0.1, speaking the wire protocol of
 * src/protocol.ts, joined in batches and cut at the end of a scenario.
 */
import WebSocket from 'ws';
import type { ClientFrame, ServerFrame } from '../../src/protocol.ts';
import type { Deadline } from './time.ts';
import { now, sleep } from './time.ts';

/** The room every benchmark uses: `general`, present in a fresh data directory. */
export const ROOM = 1;
const CONNECT_TIMEOUT_MS = 10_000;

export type ErrorFrame = Extract<ServerFrame, { type: 'error' }>;

const ID_FIELD = /"id":(\d+)/;
const TEXT_FIELD = /"text":"([^"\\]*)"/;
const MESSAGE_START = Buffer.from('{"type":"message"');

/** Every socket opened and not yet closed, so that cleanup can cut them all. */
const openSockets = new Set<WebSocket>();

/** A bare `ws` client: counts frames by type, hands each parsed frame to `onFrame`. */
export class BenchClient {
  readonly counts = new Map<ServerFrame['type'], number>();
  readonly errors: ErrorFrame[] = [];
  closeCode: number | undefined;
  closeReason = '';
  onFrame: (frame: ServerFrame) => void = () => {};
  /**
   * How `message` frames are read. Unset: parsed and handed to `onFrame` like any frame. A
   * function: it gets the id and text picked out of the frame without JSON.parse (the bench's
   * texts have no characters JSON escapes), to keep 200 receivers light. `'count'`: only
   * counted, not even decoded.
   */
  onMessage: ((id: number, text: string) => void) | 'count' | undefined;
  readonly closed: Promise<void>;

  private constructor(
    readonly username: string,
    readonly ws: WebSocket,
  ) {
    openSockets.add(ws);
    ws.on('message', (data: Buffer) => this.receive(data));
    this.closed = new Promise((resolve) =>
      ws.once('close', (code, reason) => {
        this.closeCode = code;
        this.closeReason = reason.toString();
        openSockets.delete(ws);
        resolve();
      }),
    );
    ws.on('error', () => {}); // the close that follows is what counts
  }

  private count(type: ServerFrame['type']): void {
    this.counts.set(type, (this.counts.get(type) ?? 0) + 1);
  }

  private receive(data: Buffer): void {
    if (
      this.onMessage === 'count' &&
      data.subarray(0, MESSAGE_START.length).equals(MESSAGE_START)
    ) {
      this.count('message');
      return;
    }
    const raw = data.toString('utf8');
    if (typeof this.onMessage === 'function' && raw.startsWith('{"type":"message"')) {
      const id = ID_FIELD.exec(raw);
      const text = TEXT_FIELD.exec(raw);
      if (id && text) {
        this.count('message');
        this.onMessage(Number(id[1]), text[1]!);
        return;
      }
    }
    const frame = JSON.parse(raw) as ServerFrame;
    this.count(frame.type);
    if (frame.type === 'error') this.errors.push(frame);
    this.onFrame(frame);
  }

  /**
   * Connects to the room and resolves once the join's `history` and `presence` frames have
   * arrived. `setup` runs before any frame can arrive.
   */
  static join(
    wsUrl: string,
    username: string,
    setup: (client: BenchClient) => void = () => {},
    timeoutMs = CONNECT_TIMEOUT_MS,
    room = ROOM,
  ): Promise<BenchClient> {
    const ws = new WebSocket(`${wsUrl}/ws/${room}?username=${encodeURIComponent(username)}`, {
      perMessageDeflate: false,
      skipUTF8Validation: true,
    });
    const client = new BenchClient(username, ws);
    setup(client);
    return client.joined(timeoutMs);
  }

  private joined(timeoutMs: number): Promise<BenchClient> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`${this.username}: no history+presence in ${timeoutMs} ms`));
      }, timeoutMs);
      const inner = this.onFrame;
      this.onFrame = (frame) => {
        inner(frame);
        if (frame.type === 'presence') {
          clearTimeout(timer);
          this.onFrame = inner;
          resolve(this);
        }
      };
      void this.closed.then(() => {
        clearTimeout(timer);
        reject(new Error(`${this.username}: closed ${this.closeCode} ${this.closeReason}`));
      });
    });
  }

  send(frame: ClientFrame): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(frame));
  }

  close(): void {
    if (this.ws.readyState <= WebSocket.OPEN) this.ws.close();
  }
}

export interface JoinOptions {
  /** Concurrent connects. */
  batch: number;
  /** No batch starts after it. */
  deadline?: Deadline;
  /** Runs on each client before it connects; `index` is its name's place in `names`. */
  setup?: (client: BenchClient, index: number) => void;
  timeoutMs?: number;
  /** The room every client joins (default ROOM). */
  room?: number;
}

/** Joins `names` in batches of concurrent connects; stops at the deadline. */
export async function joinAll(
  wsUrl: string,
  names: string[],
  options: JoinOptions,
): Promise<{ clients: BenchClient[]; failures: string[] }> {
  const { batch, deadline, setup, timeoutMs, room } = options;
  const clients: BenchClient[] = [];
  const failures: string[] = [];
  for (let start = 0; start < names.length && !deadline?.passed; start += batch) {
    const settled = await Promise.allSettled(
      names
        .slice(start, start + batch)
        .map((name, i) =>
          BenchClient.join(wsUrl, name, (c) => setup?.(c, start + i), timeoutMs, room),
        ),
    );
    for (const result of settled) {
      if (result.status === 'fulfilled') clients.push(result.value);
      else failures.push((result.reason as Error).message);
    }
  }
  return { clients, failures };
}

/** Closes every client; resolves when all are closed or `ms` passed, with the time it took. */
export async function closeAll(clients: BenchClient[], ms: number): Promise<number> {
  const started = now();
  for (const client of clients) client.close();
  await Promise.race([Promise.all(clients.map((c) => c.closed)), sleep(ms)]);
  return now() - started;
}

/** Terminates every socket still open. */
export function cutOpenSockets(): void {
  for (const ws of openSockets) ws.terminate();
  openSockets.clear();
}

/** Message text carrying the sender's index, sequence number and send time. */
export const stamp = (sender: number, seq: number, at: number) =>
  `${sender}:${seq}:${at.toFixed(3)}`;
/** The send time `stamp` put in a text. */
export const sentAt = (text: string) => Number(text.slice(text.lastIndexOf(':') + 1));
