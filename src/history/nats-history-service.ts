import type { FastifyBaseLogger } from 'fastify';
import type { Msg, Subscription } from '@nats-io/transport-node';
import { AckPolicy, DeliverPolicy, JetStreamApiCodes } from '@nats-io/jetstream';
import type { ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import { ChatError } from '../errors.ts';
import { reportInternalError } from '../internal-errors.ts';
import type { NatsLink } from '../nats/connection.ts';
import { MalformedPayloadError } from '../nats/guards.ts';
import { isHistoryOp, parseHistoryRequest } from '../nats/history-ops.ts';
import type {
  HistoryAnswer,
  HistoryHandlers,
  HistoryOp,
  HistoryReply,
} from '../nats/history-ops.ts';
import { respondInParts } from '../nats/parts.ts';
import { ensureStream, isJetStreamError, lastSeqOf } from '../nats/stream.ts';
import { readStreamMessage } from '../nats/stream-message.ts';
import {
  HISTORY_CONSUMER,
  HISTORY_QUEUE,
  HISTORY_WILDCARD,
  MESSAGE_SUBJECTS,
  STREAM,
  historyOpOf,
} from '../nats/subjects.ts';
import type { NewMessage } from '../store/sqlite-store.ts';
import type { HistoryService } from './history-service.ts';

export interface NatsHistoryOptions {
  streamMaxAgeMs: number;
  dedupeWindowMs: number;
  /** How long a replay may wait for persistence to catch up before it answers `unavailable`. */
  catchUpTimeoutMs: number;
  /** Most messages written in one SQLite transaction. */
  maxBatch?: number;
}

const RETRY_MS = 1000;

/**
 * The history service in NATS mode: a durable pull consumer persists every message of the stream
 * to SQLite and the transcripts, in stream order, in batched transactions, and acknowledges only
 * what was committed; a redelivered message at or below the persisted sequence is acknowledged
 * without being stored again. It answers room and history queries as a queue-group responder.
 */
export class NatsHistoryService {
  private persistedSeq: number;
  private buffer: JsMsg[] = [];
  private flushScheduled = false;
  private waiters: Array<{ seq: number; resolve: () => void }> = [];
  private messages: ConsumerMessages | undefined;
  private requests: Subscription | undefined;
  private readonly maxBatch: number;
  private resuming = false;
  private resumeAgain = false;
  private closed = false;

  /** The answer to each history operation (a request reaches it checked). */
  private readonly handlers: HistoryHandlers = {
    rooms: () => this.history.listRooms(),
    room_count: () => this.history.roomCount(),
    room: ({ id }) => this.history.getRoom(id) ?? null,
    create_room: ({ name }) => this.history.createRoom(name),
    messages: (page) => this.history.messages(page),
    replay: async (request) => {
      await this.waitPersisted(await lastSeqOf(this.link.jsm, request.serverId));
      return this.history.replay(request);
    },
    status: async () => {
      const info = await this.link.jsm.streams.info(STREAM);
      return {
        lag: Math.max(0, info.state.last_seq - this.persistedSeq),
        persisted: this.persistedSeq,
        writable: this.history.isWritable(),
      };
    },
  };

  constructor(
    private readonly history: HistoryService,
    private readonly link: NatsLink,
    private readonly options: NatsHistoryOptions,
    private readonly log: FastifyBaseLogger,
  ) {
    this.persistedSeq = history.lastMessageId();
    this.maxBatch = options.maxBatch ?? 500;
  }

  async start(): Promise<void> {
    const { nc } = this.link;
    await this.follow();
    this.link.onReconnect(() => void this.resume());
    this.requests = nc.subscribe(HISTORY_WILDCARD, {
      queue: HISTORY_QUEUE,
      callback: (error, msg) => {
        if (error) {
          this.log.warn({ err: error }, 'history request subscription failed');
          return;
        }
        this.answer(msg).catch((failure: unknown) =>
          reportInternalError('history_request', failure, this.log),
        );
      },
    });
    // the server has the subscription once this round trip is done: queries are answered now
    await nc.flush();
  }

  /**
   * Makes sure the stream exists and continues above the store, then consumes it from right
   * after the last persisted message.
   */
  private async follow(): Promise<void> {
    const { jsm, js } = this.link;
    const moved = await ensureStream(
      jsm,
      { maxAgeMs: this.options.streamMaxAgeMs, dedupeWindowMs: this.options.dedupeWindowMs },
      this.persistedSeq,
    );
    if (moved) {
      this.log.warn(
        { next: this.persistedSeq + 1 },
        'stream was behind the store: ids continue above it',
      );
    }
    await this.positionConsumer();
    const consumer = await js.consumers.get(STREAM, HISTORY_CONSUMER);
    this.messages = await consumer.consume({
      max_messages: 1000,
      callback: (msg) => this.receive(msg),
    });
  }

  /**
   * After a reconnect, consumes anew from the store's position: the nats-server may have been
   * restarted (its consumer state lags after `kill -9`) or may have lost the stream altogether
   * (then it is recreated above the store, as at start). What was received before is written
   * first, so that the new stream's sequences cannot meet it.
   */
  private async resume(): Promise<void> {
    if (this.resuming) {
      this.resumeAgain = true;
      return;
    }
    this.resuming = true;
    try {
      await this.messages?.close();
      this.messages = undefined;
      while (this.buffer.length > 0 && this.writeBatch()) {
        // write what the old consumer delivered before it stopped
      }
      while (!this.closed) {
        try {
          await this.follow();
          this.log.info({ persisted: this.persistedSeq }, 'following the stream again');
          break;
        } catch (error) {
          this.log.warn({ err: error }, 'cannot follow the stream yet; retrying');
          await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
        }
      }
    } finally {
      this.resuming = false;
    }
    if (this.resumeAgain) {
      this.resumeAgain = false;
      await this.resume();
    }
  }

  /**
   * (Re)creates the durable consumer right after the last persisted message. The store, not the
   * consumer's ack floor, says what is persisted: messages a killed predecessor had received but
   * not acked are redelivered now instead of after the ack wait, and a recreated stream is read
   * from its start. One history service writes at a time.
   */
  private async positionConsumer(): Promise<void> {
    const { jsm } = this.link;
    try {
      await jsm.consumers.delete(STREAM, HISTORY_CONSUMER);
    } catch (error) {
      if (!isJetStreamError(error, JetStreamApiCodes.ConsumerNotFound)) throw error;
    }
    await jsm.consumers.add(STREAM, {
      durable_name: HISTORY_CONSUMER,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: this.persistedSeq + 1,
      filter_subject: MESSAGE_SUBJECTS,
      max_ack_pending: 20_000,
      ack_wait: 30_000_000_000,
    });
  }

  /** Stops taking messages, writes what it has, and stops answering. */
  async close(): Promise<void> {
    this.closed = true;
    this.requests?.unsubscribe();
    await this.messages?.close();
    while (this.buffer.length > 0 && this.writeBatch()) {
      // everything received before the stop is written and acked
    }
  }

  private receive(msg: JsMsg): void {
    this.buffer.push(msg);
    this.scheduleFlush(0);
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
   * Persists and acks the oldest batch. False when writing failed: nothing of the batch was
   * committed or acked, and it is tried again, in order. Once committed, a batch is never
   * written again: a transcript that fails falls behind inside HistoryService instead of
   * throwing here, and the persisted sequence moves before anything else can throw.
   */
  private writeBatch(): boolean {
    const batch = this.buffer.slice(0, this.maxBatch);
    if (batch.length === 0) return true;
    try {
      this.persist(batch);
    } catch (error) {
      this.log.error({ err: error }, 'persisting messages failed; retrying');
      return false;
    }
    this.buffer.splice(0, batch.length);
    this.persistedSeq = Math.max(this.persistedSeq, batch[batch.length - 1]!.seq);
    for (const msg of batch) msg.ack();
    this.wakeWaiters();
    return true;
  }

  private persist(batch: readonly JsMsg[]): void {
    const fresh: NewMessage[] = [];
    let highest = this.persistedSeq;
    for (const msg of batch) {
      if (msg.seq <= highest) continue;
      highest = msg.seq;
      const read = readStreamMessage(msg);
      if (!read.ok) {
        // not a chat message: skipped (and acked with its batch), so it cannot stall the rest
        reportInternalError('stream_message', new MalformedPayloadError(read.reason), this.log);
        continue;
      }
      const payload = read.value;
      if (!this.history.getRoom(payload.server_id)) {
        this.log.warn(
          { seq: msg.seq, serverId: payload.server_id },
          'skipping a message for an unknown room',
        );
        continue;
      }
      fresh.push({ id: msg.seq, ...payload });
    }
    if (fresh.length > 0) this.history.appendNumbered(fresh);
  }

  /** Resolves once every stream message up to `seq` is persisted. */
  private waitPersisted(seq: number): Promise<void> {
    if (this.persistedSeq >= seq) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(new Error(`history is behind the stream (at ${this.persistedSeq}, need ${seq})`));
      }, this.options.catchUpTimeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.waiters.push({ seq, resolve: done });
    });
  }

  private wakeWaiters(): void {
    const ready = this.waiters.filter((w) => w.seq <= this.persistedSeq);
    if (ready.length === 0) return;
    this.waiters = this.waiters.filter((w) => w.seq > this.persistedSeq);
    for (const waiter of ready) waiter.resolve();
  }

  private async answer(msg: Msg): Promise<void> {
    const op = historyOpOf(msg.subject);
    let reply: HistoryAnswer<unknown>;
    try {
      if (!isHistoryOp(op)) throw this.malformed(`unknown history operation "${op}"`);
      reply = { ok: true, result: await this.handle(op, msg.data) };
    } catch (error) {
      if (error instanceof ChatError) {
        reply = { ok: false, code: error.code, message: error.message };
      } else {
        this.log.warn({ err: error, op }, 'history request failed');
        reply = {
          ok: false,
          code: 'unavailable',
          message: 'The history service cannot answer right now',
        };
      }
    }
    // any size: parts that fit the server's max_payload; an asker waiting for a part that
    // cannot be sent times out with `unavailable`
    respondInParts(this.link.nc, msg, JSON.stringify(reply));
  }

  /** Checks the request of `op` and answers it; a malformed one is a `bad_request`. */
  private handle<Op extends HistoryOp>(op: Op, data: Uint8Array): Promise<HistoryReply<Op>> {
    const request = parseHistoryRequest(op, data);
    if (!request.ok) throw this.malformed(request.reason);
    return Promise.resolve(this.handlers[op](request.value));
  }

  /** A request nobody here can answer (another version's, or not ours): logged and counted. */
  private malformed(reason: string): ChatError {
    reportInternalError('history_request', new MalformedPayloadError(reason), this.log);
    return new ChatError('bad_request', reason);
  }
}
