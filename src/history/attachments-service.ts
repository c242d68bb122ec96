import type { AttachmentBlobs, AttachmentInfo, NewUpload } from '../domain/attachments.ts';
import { ChatError, UnavailableError } from '../errors.ts';
import type { ApplyResult } from '../store/accounts-store.ts';
import type { AttachmentsStore } from '../store/attachments-store.ts';
import type { RoomsStore } from '../store/rooms-store.ts';
import { fromStore, refusalError } from './refusals.ts';
import type { Asker } from './rooms-service.ts';
import type { StateEventLog } from './state-log.ts';

export interface AttachmentsServiceOptions {
  /** How long an upload no message took is kept (UPLOAD_UNSENT_TTL). */
  unsentTtlMs: number;
  /**
   * Runs `work` after the room's earlier judged messages and changes (NATS mode: the change
   * publisher's queue), so that the sweep never drops an upload a message was judged to carry.
   */
  inRoom?: <T>(serverId: number, work: () => Promise<T>) => Promise<T>;
  warn?: (detail: object, message: string) => void;
  now?: () => number;
}

/** Most unsent uploads one sweep drops. */
const SWEEP_BATCH = 1000;
/** Bytes with no upload recorded are kept this much longer than the unsent (an upload underway). */
const ORPHAN_GRACE_MS = 60_000;

/**
 * The storage side of attachments: records an upload (an `attachment_uploaded` state event, once
 * its bytes are stored), says who may read one, and sweeps away the uploads no message took within
 * the unsent time (an `attachments_expired` event, then their bytes), and bytes that no upload
 * holds (a process that died between the two steps of an upload).
 */
export class AttachmentsService {
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;
  /** When bytes no upload holds were last looked for (a listing of every stored id). */
  private orphansSeenAt = -Infinity;
  private readonly now: () => number;

  constructor(
    private readonly store: AttachmentsStore,
    private readonly rooms: RoomsStore,
    private readonly log: StateEventLog,
    private readonly blobs: AttachmentBlobs,
    private readonly options: AttachmentsServiceOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  /** Records an upload to a room the uploader sees (else `room_not_found`); its bytes are stored. */
  async record(upload: NewUpload, viewer: Asker): Promise<AttachmentInfo> {
    const room = fromStore(() => this.rooms.get(upload.server_id, viewer ?? undefined));
    if (!room) throw new ChatError('room_not_found', `No room with id ${upload.server_id}`);
    const result = await this.apply({ type: 'attachment_uploaded', upload });
    if (!result.ok) throw refusalError(result.refusal);
    const { id, name, type, size, width, height } = upload;
    return {
      id,
      name,
      type,
      size,
      ...(width !== undefined && height !== undefined && { width, height }),
    };
  }

  /**
   * The attachment `id` if it may be read: a sent one by who sees its message's room (`viewer`),
   * an unsent one by its uploader only (`username`; open mode without `?username=`:
   * `bad_request`). Undefined for everyone else, as for an unknown id.
   */
  readable(id: string, viewer: Asker, username: string | null): AttachmentInfo | undefined {
    const found = fromStore(() => this.store.get(id));
    if (!found) return undefined;
    if (found.message_id === null) {
      if (username === null) {
        throw new ChatError(
          'bad_request',
          'An upload not sent yet is shown to its uploader only: give ?username=',
        );
      }
      return found.uploader === username ? found.info : undefined;
    }
    return fromStore(() => this.rooms.get(found.server_id, viewer ?? undefined))
      ? found.info
      : undefined;
  }

  /** Sweeps now, then every half of the unsent time (at most a minute). */
  start(): void {
    const every = Math.max(100, Math.min(this.options.unsentTtlMs / 2, 60_000));
    this.timer = setInterval(() => void this.sweep(), every);
    this.timer.unref();
  }

  close(): void {
    clearInterval(this.timer);
  }

  /** One sweep (the one running, if one is). Never throws: what fails is tried at the next. */
  sweep(): Promise<void> {
    this.sweeping ??= this.sweepOnce()
      .catch((error: unknown) => this.options.warn?.({ err: error }, 'attachment sweep failed'))
      .finally(() => (this.sweeping = undefined));
    return this.sweeping;
  }

  private async sweepOnce(): Promise<void> {
    const now = this.now();
    const cutoff = new Date(now - this.options.unsentTtlMs).toISOString();
    const byRoom = new Map<number, string[]>();
    for (const { id, server_id } of this.store.unsentBefore(cutoff, SWEEP_BATCH)) {
      byRoom.set(server_id, [...(byRoom.get(server_id) ?? []), id]);
    }
    const inRoom = this.options.inRoom ?? ((_room, work) => work());
    for (const [serverId, ids] of byRoom) {
      const result = await inRoom(serverId, () => this.apply({ type: 'attachments_expired', ids }));
      if (result.ok && result.removed) await this.blobs.remove(result.removed);
    }
    // bytes with no upload: only a process that died mid-upload leaves them; looked for rarely
    if (now - this.orphansSeenAt < this.options.unsentTtlMs) return;
    this.orphansSeenAt = now;
    const orphanBefore = now - this.options.unsentTtlMs - ORPHAN_GRACE_MS;
    const orphans = (await this.blobs.list())
      .filter(({ id, at }) => at < orphanBefore && !this.store.get(id))
      .map(({ id }) => id);
    await this.blobs.remove(orphans);
  }

  private async apply(event: Parameters<StateEventLog>[0]): Promise<ApplyResult> {
    try {
      return await this.log(event);
    } catch (error) {
      if (error instanceof ChatError) throw error;
      throw new UnavailableError(undefined, { cause: error });
    }
  }
}
