import type { RawData } from 'ws';

/** What a session needs of its WebSocket (ws's WebSocket has it all). */
export interface SessionSocket {
  readonly readyState: number;
  readonly OPEN: number;
  /** Bytes handed to `send` that the kernel has not taken yet. */
  readonly bufferedAmount: number;
  /** `written` is called once the frame is handed to the kernel (or the socket failed). */
  send(frame: string, written?: () => void): void;
  ping(): void;
  close(code: number, reason: string): void;
  terminate(): void;
  on(event: 'message', listener: (data: RawData, isBinary: boolean) => void): unknown;
  on(event: 'pong' | 'close', listener: () => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

/**
 * A session's frames on their way to the client, and how many of their bytes count against
 * SEND_BUFFER_LIMIT. The join's frames (history, presence) do not: a big replay is what the
 * client asked for, not a sign that it is slow. While they are unwritten, everything sent after
 * them waits behind them: those bytes are what counts.
 */
export class SendBuffer {
  /** Join frames ws has not yet reported written, and the bytes sent after them meanwhile. */
  private joinFramesUnwritten = 0;
  private bytesAfterJoin = 0;

  constructor(private readonly socket: SessionSocket) {}

  isOpen(): boolean {
    return this.socket.readyState === this.socket.OPEN;
  }

  /** The bytes waiting for the client that count against SEND_BUFFER_LIMIT. */
  queuedBytes(): number {
    return this.joinFramesUnwritten > 0 ? this.bytesAfterJoin : this.socket.bufferedAmount;
  }

  send(frame: string): void {
    this.socket.send(frame);
    if (this.joinFramesUnwritten > 0) this.bytesAfterJoin += Buffer.byteLength(frame);
  }

  /** Sends a frame of the join, outside what counts until ws has written it. */
  sendJoinFrame(frame: string): void {
    this.joinFramesUnwritten++;
    this.socket.send(frame, () => this.joinFramesUnwritten--);
  }
}
