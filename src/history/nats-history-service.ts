import type { FastifyBaseLogger } from 'fastify';
import type { Msg, Subscription } from '@nats-io/transport-node';
import { AckPolicy, DeliverPolicy, JetStreamApiCodes } from '@nats-io/jetstream';
import type { ConsumerMessages } from '@nats-io/jetstream';
import type { StateEvent } from '../domain/access-events.ts';
import { ChatError, RateLimitedError, UnavailableError } from '../errors.ts';
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
import { ensureStream, isJetStreamError } from '../nats/stream.ts';
import {
  ACCESS_SUBJECT,
  HISTORY_CONSUMER,
  HISTORY_QUEUE,
  HISTORY_WILDCARD,
  MESSAGE_SUBJECTS,
  STREAM,
  historyOpOf,
} from '../nats/subjects.ts';
import type { ApplyResult } from '../store/accounts-store.ts';
import { UNSENT_TTL_MS } from '../domain/attachments.ts';
import { AccountsService } from './accounts-service.ts';
import { AttachmentsService } from './attachments-service.ts';
import type { HistoryService } from './history-service.ts';
import { ChangePublisher } from './change-publisher.ts';
import { accountHandlers } from './nats-account-handlers.ts';
import { ReadersService } from './readers-service.ts';
import { readerHandlers } from './nats-reader-handlers.ts';
import { RoomsService } from './rooms-service.ts';
import { StreamApplier } from './stream-applier.ts';

export interface NatsHistoryOptions {
  streamMaxAgeMs: number;
  dedupeWindowMs: number;
  /** How long a replay may wait for persistence to catch up before it answers `unavailable`. */
  catchUpTimeoutMs: number;
  /** Most messages written in one SQLite transaction. */
  maxBatch?: number;
  /** How long an upload no message took is kept (default 1 h). */
  unsentTtlMs?: number;
}

const RETRY_MS = 1000;

/**
 * The history service in NATS mode: a durable pull consumer persists every message of the stream
 * to SQLite and the transcripts, in stream order, in batched transactions, and acknowledges only
 * what was committed; a redelivered message at or below the persisted sequence is acknowledged
 * without being stored again. It answers room and history queries as a queue-group responder.
 *
 * Accounts and rooms (SCALE-OUT.md): a request is checked against the store here, its change
 * published to the stream as a state event (`chat.access`), and answered once this service
 * applied that event in stream order, with the messages, in the same transactions, the position included.
 * Apply is deterministic (the first registration of a name in stream order wins), so the answer
 * is the outcome of the application, not of the check.
 */
export class NatsHistoryService {
  private readonly applier: StreamApplier;
  private messages: ConsumerMessages | undefined;
  private requests: Subscription | undefined;
  private resuming = false;
  private resumeAgain = false;
  private closed = false;
  readonly accounts: AccountsService;
  readonly rooms: RoomsService;
  readonly attachments: AttachmentsService;
  readonly readers: ReadersService;
  private readonly changes: ChangePublisher;

  /** The answer to each history operation (a request reaches it checked). */
  private readonly handlers: HistoryHandlers = {
    rooms: ({ viewer, archived, reader }) => {
      const rooms = this.rooms.listRooms(viewer, archived);
      return reader === undefined ? rooms : this.readers.withCounts(rooms, reader);
    },
    room_count: () => this.rooms.roomCount(),
    room: ({ id, viewer }) => this.rooms.getRoom(id, viewer) ?? null,
    create_room: (request) => this.rooms.createRoom(request.name, request.private, request.viewer),
    members: ({ id, viewer }) => this.rooms.members(id, viewer),
    add_member: ({ id, username, viewer }) => this.rooms.addMember(id, username, viewer),
    remove_member: async ({ id, username, viewer }) => {
      await this.rooms.removeMember(id, username, viewer);
      return null;
    },
    update_room: ({ id, update, viewer }) => this.rooms.updateRoom(id, update, viewer),
    open_dm: ({ username, viewer }) => this.rooms.openDm(username, viewer),
    change: (request) => this.changes.change(request),
    reply: (draft) => this.changes.reply(draft),
    record_upload: ({ upload, viewer }) => this.attachments.record(upload, viewer),
    attachment: ({ id, viewer, username }) =>
      this.attachments.readable(id, viewer, username) ?? null,
    // Reads hold every message acked before them (read your writes): a message is acked once
    // in the stream, and may not be applied here yet.
    messages: async (page) => {
      await this.changes.caughtUp(page.serverId);
      return this.history.messages(page);
    },
    message: async ({ serverId, id }) => {
      const found = this.history.message(serverId, id);
      if (found) return found;
      await this.changes.caughtUp(serverId);
      return this.history.message(serverId, id) ?? null;
    },
    replay: async (request) => {
      await this.changes.caughtUp(request.serverId);
      return this.history.replay(request);
    },
    search: (request) => this.history.search(request),
    status: async () => {
      const info = await this.link.jsm.streams.info(STREAM);
      return {
        lag: Math.max(0, info.state.last_seq - this.applier.position),
        persisted: this.applier.position,
        writable: this.history.isWritable(),
      };
    },
    ...accountHandlers(
      () => this.accounts,
      (seq) => this.applier.waitApplied(seq),
    ),
    ...readerHandlers(
      () => this.readers,
      (seq) => this.applier.waitApplied(seq),
    ),
  };

  constructor(
    private readonly history: HistoryService,
    private readonly link: NatsLink,
    private readonly options: NatsHistoryOptions,
    private readonly log: FastifyBaseLogger,
  ) {
    this.applier = new StreamApplier(
      history,
      options.maxBatch ?? 500,
      options.catchUpTimeoutMs,
      log,
      (seqs) => void this.eraseFromStream(seqs),
    );
    this.changes = new ChangePublisher(
      history,
      link,
      this.applier,
      options.catchUpTimeoutMs,
      options.dedupeWindowMs,
    );
    const publish = (event: StateEvent) => this.publishStateEvent(event);
    this.accounts = new AccountsService(history.accounts, {
      log: publish,
      position: () => this.applier.position,
    });
    this.rooms = new RoomsService(history.rooms, publish);
    this.attachments = new AttachmentsService(
      history.attachments,
      history.rooms,
      publish,
      history.blobs,
      {
        unsentTtlMs: options.unsentTtlMs ?? UNSENT_TTL_MS,
        inRoom: (serverId, work) => this.changes.inRoom(serverId, work),
        warn: (detail, message) => log.warn(detail, message),
      },
    );
    this.readers = ReadersService.over(history, publish);
  }

  /**
   * The stream as the services' log: publishes the event, waits until this service applied it,
   * and answers how its application went. No expected-sequence header: the check made before
   * publishing may be overtaken, and the application (deterministic) decides.
   */
  private async publishStateEvent(event: StateEvent): Promise<ApplyResult> {
    if (this.closed || !this.link.isConnected()) {
      throw new UnavailableError('The stream cannot be reached: NATS is disconnected');
    }
    const ack = await this.link.js.publish(ACCESS_SUBJECT, JSON.stringify(event), {
      timeout: this.options.catchUpTimeoutMs,
    });
    await this.applier.waitApplied(ack.seq);
    const outcome = this.applier.takeOutcome(ack.seq);
    if (!outcome) throw new UnavailableError('The change was not applied');
    return outcome;
  }

  /**
   * Deleted means gone: the stream messages that held a deleted message's text (the message and
   * its edits) are erased (JetStream overwrites them, on every replica). What cannot be erased now
   * (NATS down) is logged; the stream's retention drops it at the latest.
   */
  private async eraseFromStream(seqs: number[]): Promise<void> {
    for (const seq of seqs) {
      try {
        await this.link.jsm.streams.deleteMessage(STREAM, seq, true);
      } catch (error) {
        if (isJetStreamError(error, JetStreamApiCodes.NoMessageFound)) continue;
        this.log.warn({ err: error, seq }, 'could not erase a deleted message from the stream');
      }
    }
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
    this.attachments.start();
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
      this.applier.position,
    );
    if (moved) {
      this.log.warn(
        { next: this.applier.position + 1 },
        'stream was behind the store: ids continue above it',
      );
    }
    await this.positionConsumer();
    const consumer = await js.consumers.get(STREAM, HISTORY_CONSUMER);
    this.messages = await consumer.consume({
      max_messages: 1000,
      callback: (msg) => this.applier.receive(msg),
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
      // write what the old consumer delivered before it stopped
      this.applier.drain();
      while (!this.closed) {
        try {
          await this.follow();
          this.log.info({ persisted: this.applier.position }, 'following the stream again');
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
      opt_start_seq: this.applier.position + 1,
      filter_subject: MESSAGE_SUBJECTS,
      max_ack_pending: 20_000,
      ack_wait: 30_000_000_000,
    });
  }

  /** Stops taking messages, writes what it has, and stops answering. */
  async close(): Promise<void> {
    this.closed = true;
    this.attachments.close();
    this.requests?.unsubscribe();
    await this.messages?.close();
    // everything received before the stop is written and acked
    this.applier.drain();
  }

  private async answer(msg: Msg): Promise<void> {
    const op = historyOpOf(msg.subject);
    let reply: HistoryAnswer<unknown>;
    try {
      if (!isHistoryOp(op)) throw this.malformed(`unknown history operation "${op}"`);
      reply = { ok: true, result: await this.handle(op, msg.data) };
    } catch (error) {
      if (error instanceof RateLimitedError) {
        reply = {
          ok: false,
          code: error.code,
          message: error.message,
          retry_after: error.retryAfterSeconds,
        };
      } else if (error instanceof ChatError) {
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
