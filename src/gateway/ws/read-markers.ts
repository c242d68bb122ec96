import type { FastifyBaseLogger } from 'fastify';
import type { HistoryClient } from '../../bus/types.ts';
import type { ReadMarker } from '../../domain/unread.ts';

export interface ReadMarkersOptions {
  /** How long `read` frames are collected before they go to storage together. */
  batchMs: number;
  /** Most markers in one request (each a small JSON object). */
  maxPerRequest: number;
}

/**
 * A gateway's `read` frames on their way to storage: the newest id per user and room is kept and
 * sent, with every other one collected meanwhile, as one request (one state event) every
 * `batchMs`. So a room where thousands of open pages read each new message costs storage one
 * event per gateway per batch, not one per reader per message.
 */
export class ReadMarkers {
  private pending = new Map<string, ReadMarker>();
  private timer: NodeJS.Timeout | undefined;
  private sending = false;
  private closed = false;

  constructor(
    private readonly history: Pick<HistoryClient, 'moveMarkers'>,
    private readonly options: ReadMarkersOptions,
    private readonly log: FastifyBaseLogger,
  ) {}

  read(username: string, serverId: number, id: number): void {
    const key = `${serverId}\u0000${username}`;
    const earlier = this.pending.get(key);
    if (earlier && earlier.id >= id) return;
    this.pending.set(key, { server_id: serverId, username, id });
    this.schedule();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.timer || this.sending || this.closed) return;
    this.timer = setTimeout(() => void this.send(), this.options.batchMs);
    this.timer.unref();
  }

  /** One request at a time, so that markers reach storage in the order they were read. */
  private async send(): Promise<void> {
    this.timer = undefined;
    this.sending = true;
    const markers = [...this.pending.values()];
    this.pending = new Map();
    try {
      for (let i = 0; i < markers.length; i += this.options.maxPerRequest) {
        await this.history.moveMarkers(markers.slice(i, i + this.options.maxPerRequest));
      }
    } catch (error) {
      // the page reads again at the next message; nothing here waits for these markers
      this.log.warn({ err: error, markers: markers.length }, 'read markers not stored');
    } finally {
      this.sending = false;
    }
    if (this.pending.size > 0) this.schedule();
  }
}
