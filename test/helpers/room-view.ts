import WebSocket from 'ws';
import type { ServerFrame } from '../../src/protocol.ts';
import { textOf } from '../../src/gateway/ws/session-frames.ts';

const RECONNECT_MS = 200;
const GIVE_UP_MS = 60_000;

interface PendingSend {
  resolve: (id: number) => void;
  reject: (error: Error) => void;
}

/**
 * A client that behaves as the contract asks of a real one: it keeps every message it is sent
 * (replay and live) in arrival order, and when the server closes it (1013, 1001, 1006...) it
 * reconnects with `since=` its last message id. A test compares `ids()` with REST history: a gap
 * or a duplicate anywhere, across reconnects, shows there.
 */
export class RoomView {
  private readonly seen: number[] = [];
  private socket: WebSocket | undefined;
  private readonly pending = new Map<string, PendingSend>();
  private waiters: Array<() => void> = [];
  private closedByTest = false;
  private downSince: number | undefined;
  readonly room: number;

  private constructor(
    private readonly base: string,
    readonly username: string,
  ) {
    this.room = Number(/\/ws\/(\d+)/.exec(base)?.[1]);
  }

  /** Connects and waits until the first replay has arrived. */
  static async open(base: string, username: string): Promise<RoomView> {
    const view = new RoomView(base, username);
    await view.connect();
    return view;
  }

  /** Message ids in the order this client received them, across reconnects. */
  ids(): number[] {
    return [...this.seen];
  }

  /** Sends a message; resolves with its id on `ack`, rejects on an `error` frame or a close. */
  send(text: string, clientId: string): Promise<number> {
    const socket = this.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) {
      return Promise.reject(new Error('not connected'));
    }
    return new Promise((resolve, reject) => {
      this.pending.set(clientId, { resolve, reject });
      socket.send(JSON.stringify({ type: 'message', text, client_id: clientId }));
    });
  }

  /** Resolves once a message with an id of at least `id` has arrived. */
  async waitFor(id: number, ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (!this.seen.some((seen) => seen >= id)) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `${this.username} did not receive id ${id}; has ${JSON.stringify(this.seen)}`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.closedByTest = true;
    this.socket?.close();
  }

  private connect(): Promise<void> {
    const last = this.seen[this.seen.length - 1];
    const since = this.socket === undefined ? '' : `&since=${last ?? 0}`;
    const url = `${this.base}?username=${encodeURIComponent(this.username)}${since}`;
    const socket = new WebSocket(url);
    this.socket = socket;
    return new Promise((resolve, reject) => {
      socket.on('message', (data: WebSocket.RawData) => {
        const frame = JSON.parse(textOf(data)) as ServerFrame;
        if (frame.type === 'history') {
          if (frame.more || frame.reset) reject(new Error(`unexpected replay ${textOf(data)}`));
          this.downSince = undefined;
          this.receive(frame.messages.map((m) => m.id));
          resolve();
        } else {
          this.onFrame(frame);
        }
      });
      socket.on('error', () => undefined);
      socket.on('close', () => {
        for (const [clientId, send] of this.pending) {
          send.reject(new Error(`connection closed before the ack of ${clientId}`));
        }
        this.pending.clear();
        if (this.closedByTest || this.socket !== socket) return;
        this.downSince ??= Date.now();
        if (Date.now() - this.downSince > GIVE_UP_MS) {
          reject(new Error(`${this.username} could not reconnect for ${GIVE_UP_MS} ms`));
          return;
        }
        setTimeout(() => void this.connect().then(resolve, reject), RECONNECT_MS);
      });
    });
  }

  private onFrame(frame: ServerFrame): void {
    switch (frame.type) {
      case 'message':
        this.receive([frame.id]);
        break;
      case 'ack':
        if (frame.client_id !== null) this.settle(frame.client_id)?.resolve(frame.id);
        break;
      case 'error':
        if (frame.client_id !== undefined) {
          this.settle(frame.client_id)?.reject(new Error(`${frame.code}: ${frame.message}`));
        }
        break;
      default:
        break;
    }
  }

  private settle(clientId: string): PendingSend | undefined {
    const send = this.pending.get(clientId);
    this.pending.delete(clientId);
    return send;
  }

  private receive(ids: number[]): void {
    this.seen.push(...ids);
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
