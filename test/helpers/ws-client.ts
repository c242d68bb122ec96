import WebSocket from 'ws';
import type { ClientOptions } from 'ws';
import type { ServerFrame } from '../../src/protocol.ts';
import { textOf } from '../../src/gateway/ws/session-frames.ts';

type FrameOf<T extends ServerFrame['type']> = Extract<ServerFrame, { type: T }>;

const DEFAULT_WAIT_MS = 5000;

/**
 * A WebSocket test client: records every frame, and lets a test await the next frame of a type
 * or the close, with a timeout that fails the test instead of hanging it.
 */
export class ChatClient {
  readonly frames: ServerFrame[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  /** Frames no `next`/`until` has taken yet, in arrival order. */
  private readonly unread: ServerFrame[] = [];
  private waiters: Array<() => void> = [];

  constructor(readonly socket: WebSocket) {
    socket.on('message', (data: WebSocket.RawData) => {
      const frame = JSON.parse(textOf(data)) as ServerFrame;
      this.frames.push(frame);
      this.unread.push(frame);
      this.wake();
    });
    this.closed = new Promise((resolve) =>
      socket.once('close', (code, reason) => {
        resolve({ code, reason: reason.toString() });
        this.wake();
      }),
    );
    socket.on('error', () => this.wake());
  }

  static connect(url: string, options?: ClientOptions): ChatClient {
    return new ChatClient(new WebSocket(url, options));
  }

  /** Connects and waits for the `history` and `presence` frames of the join. */
  static async join(url: string, options?: ClientOptions) {
    const client = ChatClient.connect(url, options);
    const history = await client.next('history');
    const presence = await client.next('presence');
    return { client, history, presence };
  }

  send(frame: unknown): void {
    this.socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** The first frame of the given type not taken yet; frames of other types stay unread. */
  async next<T extends ServerFrame['type']>(
    type: T,
    waitMs = DEFAULT_WAIT_MS,
  ): Promise<FrameOf<T>> {
    const frame = await this.until((f) => f.type === type, waitMs, `a "${type}" frame`);
    return frame as FrameOf<T>;
  }

  /** The first unread frame that matches; it is taken, the others stay unread. */
  async until(
    match: (frame: ServerFrame) => boolean,
    waitMs = DEFAULT_WAIT_MS,
    what = 'a matching frame',
  ): Promise<ServerFrame> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      const index = this.unread.findIndex(match);
      if (index !== -1) return this.unread.splice(index, 1)[0]!;
      if (this.socket.readyState >= WebSocket.CLOSING) {
        throw new Error(`connection closed while waiting for ${what}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        const recent = JSON.stringify(this.frames.slice(-5)).slice(0, 500);
        throw new Error(`timed out waiting for ${what}; last frames: ${recent}`);
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

  /** Collects `count` message frames, skipping other frames. */
  async messages(count: number, waitMs = DEFAULT_WAIT_MS): Promise<FrameOf<'message'>[]> {
    const got: FrameOf<'message'>[] = [];
    while (got.length < count) got.push(await this.next('message', waitMs));
    return got;
  }

  /** Sends a message and waits for its ack. */
  async say(text: string, clientId = `c-${Math.random().toString(36).slice(2)}`) {
    this.send({ type: 'message', text, client_id: clientId });
    const ack = await this.until(
      (f) => (f.type === 'ack' || f.type === 'error') && f.client_id === clientId,
      DEFAULT_WAIT_MS,
      `the ack of ${clientId}`,
    );
    if (ack.type !== 'ack') throw new Error(`send refused: ${JSON.stringify(ack)}`);
    return ack;
  }

  async waitClosed(waitMs = DEFAULT_WAIT_MS): Promise<{ code: number; reason: string }> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('connection did not close in time')), waitMs);
    });
    try {
      return await Promise.race([this.closed, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  close(): void {
    if (this.socket.readyState <= WebSocket.OPEN) this.socket.close();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
