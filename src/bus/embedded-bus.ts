import type { AccessUpdate } from '../domain/access-events.ts';
import type { ChangeRequest, ChangeResult, RoomChange } from '../domain/changes.ts';
import type { MessageDraft } from '../domain/message.ts';
import type { ReaderTrigger } from '../domain/unread.ts';
import { ChatError, UnavailableError } from '../errors.ts';
import { BusListeners } from './listeners.ts';
import type {
  DurableLog,
  MessageBus,
  PublishResult,
  RoomEvent,
  StoredDraft,
  Subscription,
} from './types.ts';

interface Pending {
  item: StoredDraft;
  resolve: (result: PublishResult) => void;
  reject: (error: Error) => void;
}

export interface EmbeddedBusOptions {
  dedupeWindowMs: number;
  /** Most drafts written in one SQLite transaction. */
  maxBatch?: number;
}

/**
 * The in-process bus of embedded mode. Publishes are queued and written in batches, one SQLite
 * transaction each, on the next turn of the event loop; a message is delivered to subscribers
 * and its publish resolved only after its transaction committed, so the log order is the id
 * order and an ack always means durable.
 */
export class EmbeddedBus implements MessageBus {
  readonly liveMentions = true;
  private queue: Pending[] = [];
  private flushScheduled = false;
  private closed = false;
  private readonly listeners = new BusListeners();
  private readonly maxBatch: number;

  constructor(
    private readonly durableLog: DurableLog,
    private readonly options: EmbeddedBusOptions,
  ) {
    this.maxBatch = options.maxBatch ?? 100;
  }

  publish(draft: MessageDraft): Promise<PublishResult> {
    if (this.closed) return Promise.reject(new UnavailableError('The server is shutting down'));
    return new Promise((resolve, reject) => {
      this.queue.push({ item: { draft, ts: new Date().toISOString() }, resolve, reject });
      this.scheduleFlush();
    });
  }

  /**
   * Applied at once, in this turn: its seq is taken now, and it is delivered right after, so
   * subscribers see it in seq order with the messages (which take theirs when their batch is
   * written).
   */
  change(request: ChangeRequest): Promise<ChangeResult> {
    if (this.closed) return Promise.reject(new UnavailableError('The server is shutting down'));
    const dedupeSince = new Date(Date.now() - this.options.dedupeWindowMs).toISOString();
    let outcome;
    try {
      outcome = this.durableLog.applyChange(request, dedupeSince);
    } catch (error) {
      return Promise.reject(new UnavailableError(undefined, { cause: error }));
    }
    if (outcome.kind === 'refused') return Promise.reject(new ChatError(outcome.refusal));
    if (outcome.kind === 'applied') this.listeners.deliver(outcome.change);
    const duplicate = outcome.kind === 'unchanged' && outcome.duplicate;
    return Promise.resolve({ id: outcome.id, seq: outcome.seq, duplicate });
  }

  subscribe(serverId: number, onChange: (change: RoomChange) => void): Promise<Subscription> {
    return Promise.resolve(this.listeners.onRoom(serverId, onChange));
  }

  /** The in-process log never loses its place. */
  onGap(): Subscription {
    return { unsubscribe: () => undefined };
  }

  watchRooms(
    wants: (serverId: number) => boolean,
    onChange: (change: RoomChange) => void,
  ): Subscription {
    return this.listeners.watch(wants, onChange);
  }

  onReaderTriggers(handler: (triggers: ReaderTrigger[], seq: number) => void): Subscription {
    return this.listeners.onReaderTriggers(handler);
  }

  publishEvent(event: RoomEvent): void {
    this.listeners.emit(event);
  }

  maxEventBytes(): number {
    return Number.POSITIVE_INFINITY;
  }

  onEvent(handler: (event: RoomEvent) => void): Subscription {
    return this.listeners.onEvent(handler);
  }

  onAccessChange(handler: (update: AccessUpdate) => void): Subscription {
    return this.listeners.onAccessChange(handler);
  }

  /** The store's own feed: a snapshot taken now is always current. */
  accessFeedPosition(): Promise<number> {
    return Promise.resolve(0);
  }

  /** Storage applied a state event: whose counts or rooms it may have changed. */
  deliverReaderTriggers(triggers: ReaderTrigger[]): void {
    this.listeners.emitReaderTriggers(triggers, 0);
  }

  /** Storage committed an access change: the gateway in this process acts on it. */
  deliverAccessChange(update: AccessUpdate): void {
    this.listeners.emitAccessChange(update);
  }

  isReady(): boolean {
    return !this.closed;
  }

  /** Writes what is queued, then refuses new publishes. */
  close(): Promise<void> {
    while (this.queue.length > 0) this.writeBatch(this.queue.splice(0, this.maxBatch));
    this.closed = true;
    return Promise.resolve();
  }

  /**
   * Writes one batch per turn of the event loop: between batches, sockets are read and written,
   * so a backlog never stalls the gateway for longer than one batch and its fan-out.
   */
  private flush(): void {
    this.flushScheduled = false;
    const batch = this.queue.splice(0, this.maxBatch);
    if (batch.length > 0) this.writeBatch(batch);
    if (this.queue.length > 0) this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private writeBatch(batch: Pending[]): void {
    const dedupeSince = new Date(Date.now() - this.options.dedupeWindowMs).toISOString();
    let results;
    try {
      results = this.durableLog.appendDrafts(
        batch.map((p) => p.item),
        dedupeSince,
      );
    } catch (error) {
      const failure = new UnavailableError(undefined, { cause: error });
      for (const pending of batch) pending.reject(failure);
      return;
    }
    for (const result of results) {
      if ('message' in result) this.listeners.deliver({ type: 'message', message: result.message });
    }
    results.forEach((result, i) => {
      const pending = batch[i]!;
      if ('refused' in result) pending.reject(new ChatError(result.refused));
      else pending.resolve({ id: result.id, duplicate: result.duplicate });
    });
  }
}
