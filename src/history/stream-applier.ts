import type { FastifyBaseLogger } from 'fastify';
import type { JsMsg } from '@nats-io/jetstream';
import { reportInternalError } from '../internal-errors.ts';
import { readAccessEvent } from '../nats/access-event.ts';
import { MalformedPayloadError } from '../nats/guards.ts';
import { readRoomEntry } from '../nats/stream-message.ts';
import { ACCESS_SUBJECT } from '../nats/subjects.ts';
import type { ApplyResult } from '../store/accounts-store.ts';
import type { ChangeOutcome } from '../domain/changes.ts';
import type { HistoryService, StreamEntry, StreamOutcomes } from './history-service.ts';

const RETRY_MS = 1000;
/** Outcomes of applied access events kept for the requests that published them. */
const OUTCOMES_KEPT = 10_000;

/**
 * The history service's apply loop (NATS mode): what the consumer delivers is applied in stream
 * order, in batched transactions that also move the store's position (`applied_seq`), and acked
 * only once committed; a redelivered message at or below the position is acked without being
 * applied again. Chat messages go to SQLite and the transcripts; access events (`chat.access`)
 * to the accounts store, whose verdict is kept for the request that published the event.
 */
export class StreamApplier {
  private applied: number;
  private buffer: JsMsg[] = [];
  private flushScheduled = false;
  private waiters: Array<{ seq: number; resolve: () => void }> = [];
  /** Outcomes of the access events applied lately, by stream sequence. */
  private readonly outcomes = new Map<number, ApplyResult>();
  /** Outcomes of the changes (edits, deletes, reactions) applied lately, by stream sequence. */
  private readonly changeOutcomes = new Map<number, ChangeOutcome>();

  constructor(
    private readonly history: HistoryService,
    private readonly maxBatch: number,
    private readonly catchUpTimeoutMs: number,
    private readonly log: FastifyBaseLogger,
    /** Stream sequences that held a deleted message's text, to erase from the stream. */
    private readonly erase: (seqs: number[]) => void = () => undefined,
  ) {
    this.applied = history.appliedSeq();
  }

  /** The last stream sequence applied (and committed with it). */
  get position(): number {
    return this.applied;
  }

  receive(msg: JsMsg): void {
    this.buffer.push(msg);
    this.scheduleFlush(0);
  }

  /** Writes everything received so far (before a consumer is made anew, or at close). */
  drain(): void {
    while (this.buffer.length > 0 && this.writeBatch()) {
      // each batch is committed and acked in turn
    }
  }

  /** Resolves once every stream message up to `seq` is applied; rejects after the catch-up time. */
  waitApplied(seq: number): Promise<void> {
    if (this.applied >= seq) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(new Error(`history is behind the stream (at ${this.applied}, need ${seq})`));
      }, this.catchUpTimeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.waiters.push({ seq, resolve: done });
    });
  }

  /** How the access event at `seq` was applied (once; undefined: not an applied event). */
  takeOutcome(seq: number): ApplyResult | undefined {
    const outcome = this.outcomes.get(seq);
    this.outcomes.delete(seq);
    return outcome;
  }

  /** How the change at `seq` was applied (once; undefined: not an applied change). */
  takeChangeOutcome(seq: number): ChangeOutcome | undefined {
    const outcome = this.changeOutcomes.get(seq);
    this.changeOutcomes.delete(seq);
    return outcome;
  }

  private scheduleFlush(delayMs: number): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    if (delayMs === 0) setImmediate(() => this.flush());
    else setTimeout(() => this.flush(), delayMs);
  }

  /** One batch per turn of the event loop, so that queries are answered between batches. */
  private flush(): void {
    this.flushScheduled = false;
    if (!this.writeBatch()) this.scheduleFlush(RETRY_MS);
    else if (this.buffer.length > 0) this.scheduleFlush(0);
  }

  /**
   * Applies and acks the oldest batch. False when writing failed: nothing of the batch was
   * committed or acked, and it is tried again, in order. Once committed, a batch is never
   * written again: a transcript that fails falls behind inside HistoryService instead of
   * throwing here, and the position moves before anything else can throw.
   */
  private writeBatch(): boolean {
    const batch = this.buffer.slice(0, this.maxBatch);
    if (batch.length === 0) return true;
    let outcomes: StreamOutcomes;
    try {
      outcomes = this.apply(batch);
    } catch (error) {
      this.log.error({ err: error }, 'persisting messages failed; retrying');
      return false;
    }
    keep(this.outcomes, outcomes.access);
    keep(this.changeOutcomes, outcomes.changes);
    const erased = [...outcomes.changes.values()].flatMap((o) =>
      o.kind === 'applied' && o.erase ? o.erase : [],
    );
    if (erased.length > 0) this.erase(erased);
    this.buffer.splice(0, batch.length);
    this.applied = Math.max(this.applied, batch[batch.length - 1]!.seq);
    for (const msg of batch) msg.ack();
    this.wakeWaiters();
    return true;
  }

  /**
   * Applies a batch in stream order, with the new position, in one transaction; answers the
   * outcomes of its access events. What does not pass its checks is skipped (and acked with its
   * batch), so that it cannot stall the rest.
   */
  private apply(batch: readonly JsMsg[]): StreamOutcomes {
    const fresh: StreamEntry[] = [];
    let highest = this.applied;
    for (const msg of batch) {
      if (msg.seq <= highest) continue;
      highest = msg.seq;
      if (msg.subject === ACCESS_SUBJECT) {
        const event = readAccessEvent(msg);
        if (event.ok) fresh.push({ kind: 'access', seq: msg.seq, event: event.value });
        else reportInternalError('access_event', new MalformedPayloadError(event.reason), this.log);
        continue;
      }
      const read = readRoomEntry(msg);
      if (!read.ok) {
        reportInternalError('stream_message', new MalformedPayloadError(read.reason), this.log);
        continue;
      }
      const entry = read.value;
      if (entry.kind === 'change') {
        const { request, at } = entry.payload;
        fresh.push({ kind: 'change', seq: msg.seq, request, at });
        continue;
      }
      // a message of a room made earlier in this batch: whether the room exists is asked when
      // the batch is applied, in order (HistoryService.applyStream)
      const { attachments, ...message } = entry.payload;
      fresh.push({
        kind: 'message',
        message: { id: msg.seq, ...message, attachments: attachments?.map((a) => a.id) },
      });
    }
    if (highest <= this.applied) return { access: new Map(), changes: new Map() };
    return this.history.applyStream(fresh, highest);
  }

  private wakeWaiters(): void {
    const ready = this.waiters.filter((w) => w.seq <= this.applied);
    if (ready.length === 0) return;
    this.waiters = this.waiters.filter((w) => w.seq > this.applied);
    for (const waiter of ready) waiter.resolve();
  }
}

/** Keeps the newest outcomes for the requests waiting on them (oldest dropped first). */
function keep<T>(kept: Map<number, T>, fresh: Map<number, T>): void {
  for (const [seq, outcome] of fresh) kept.set(seq, outcome);
  for (const seq of kept.keys()) {
    if (kept.size <= OUTCOMES_KEPT) break;
    kept.delete(seq);
  }
}
