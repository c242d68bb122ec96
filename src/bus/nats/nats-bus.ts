import type { FastifyBaseLogger } from 'fastify';
import type { Subscription as NatsSubscription } from '@nats-io/transport-node';
import { DeliverPolicy } from '@nats-io/jetstream';
import type { ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import { accessChangeOf, readerTriggersOf } from '../../domain/access-events.ts';
import type { AccessUpdate } from '../../domain/access-events.ts';
import { withUrl } from '../../domain/attachments.ts';
import type { ChangeRequest, ChangeResult, RoomChange } from '../../domain/changes.ts';
import type { Message, MessageDraft } from '../../domain/message.ts';
import type { ReaderTrigger } from '../../domain/unread.ts';
import { UnavailableError } from '../../errors.ts';
import { reportInternalError } from '../../internal-errors.ts';
import { BusListeners } from '../listeners.ts';
import type { MessageBus, PublishResult, RoomEvent, Subscription } from '../types.ts';
import { readAccessEvent } from '../../nats/access-event.ts';
import type { NatsLink } from '../../nats/connection.ts';
import { MalformedPayloadError, parsePayload } from '../../nats/guards.ts';
import { streamInfo } from '../../nats/stream.ts';
import { dedupeId, readRoomEntry, roomChangeOf } from '../../nats/stream-message.ts';
import type { StreamPayload } from '../../nats/stream-message.ts';
import {
  ACCESS_SUBJECT,
  EVENTS_SUBJECT,
  MESSAGE_SUBJECTS,
  STREAM,
  messageSubject,
  roomOfSubject,
} from '../../nats/subjects.ts';
import { askHistory } from './ask-history.ts';
import { isRoomEvent } from './room-events.ts';

export interface NatsBusOptions {
  publishTimeoutMs: number;
}

const STREAM_WAIT_MS = 1000;
/** Room events kept while the first connection is being made. */
const EARLY_EVENTS = 16;
/** Until the first connection tells the server's max_payload (events wait in `early` meanwhile). */
const FALLBACK_MAX_PAYLOAD = 64 * 1024;

/**
 * The gateway's bus in NATS mode. Messages are published into the JetStream stream (the PubAck's
 * sequence is the message id; `client_id` de-duplication is JetStream's `Nats-Msg-Id` within the
 * stream's duplicate window). Live messages come from one ordered consumer over `chat.*`, started
 * after the stream's last message when the gateway starts and made anew after its own position
 * at every reconnect, so this gateway sees every room in stream order, each message once. The
 * same feed carries the access events (`chat.access`), whose changes go to `onAccessChange`
 * with their stream sequence as position. Room events travel on core NATS.
 */
export class NatsBus implements MessageBus {
  readonly liveMentions = false;
  private readonly listeners = new BusListeners();
  private readonly gapHandlers = new Set<() => void>();
  private events: NatsSubscription | undefined;
  /** Room events published before the first connection, sent once it is made. */
  private readonly early: RoomEvent[] = [];
  private feed: ConsumerMessages | undefined;
  /** The newest stream sequence this gateway's live feed has passed on; undefined before. */
  private lastSeq: number | undefined;
  private feedStarting: Promise<void> | undefined;
  private feedRestartWanted = false;
  private readonly feedWaiters = new Set<() => void>();
  private closed = false;

  constructor(
    private readonly link: NatsLink,
    private readonly options: NatsBusOptions,
    private readonly log: FastifyBaseLogger,
  ) {
    link.onReconnect(() => this.restartFeed());
    this.feedStarting = link.connected
      .then(
        () => {
          this.listenToEvents();
          return this.runFeed();
        },
        () => undefined,
      )
      .finally(() => this.feedStarted());
  }

  async publish(draft: MessageDraft): Promise<PublishResult> {
    if (draft.replyTo !== undefined || draft.attachments !== undefined) {
      // a reply's target and a message's uploads are judged by the history service, which
      // publishes it
      return askHistory(this.link, this.options.publishTimeoutMs, 'reply', draft);
    }
    if (this.closed || !this.link.isConnected()) {
      throw new UnavailableError('The message bus is not connected; retry with the same client_id');
    }
    const payload: StreamPayload = {
      server_id: draft.serverId,
      username: draft.username,
      text: draft.text,
      ts: new Date().toISOString(),
      ...(draft.clientId !== undefined ? { client_id: draft.clientId } : {}),
    };
    try {
      const ack = await this.link.js.publish(
        messageSubject(draft.serverId),
        JSON.stringify(payload),
        {
          timeout: this.options.publishTimeoutMs,
          ...(draft.clientId !== undefined ? { msgID: dedupeId(draft) } : {}),
        },
      );
      return { id: ack.seq, duplicate: ack.duplicate };
    } catch (error) {
      throw new UnavailableError(undefined, { cause: error });
    }
  }

  /**
   * Registers a room listener once the live feed has a position: from then on every message
   * accepted in the stream reaches it, also across NATS restarts (the feed resumes after its
   * position). Before the feed's first start, waits for it at most `publishTimeoutMs`.
   */
  async subscribe(serverId: number, onChange: (change: RoomChange) => void): Promise<Subscription> {
    if (this.lastSeq === undefined && !(await this.feedPositioned(this.options.publishTimeoutMs))) {
      throw new UnavailableError('The live message feed is not running yet');
    }
    return this.listeners.onRoom(serverId, onChange);
  }

  /**
   * The history service judges the change against its store, publishes it to the room's
   * subject, and answers once it applied it: gateways never publish a change themselves.
   */
  change(request: ChangeRequest): Promise<ChangeResult> {
    return askHistory(this.link, this.options.publishTimeoutMs, 'change', request);
  }

  onGap(handler: () => void): Subscription {
    this.gapHandlers.add(handler);
    return { unsubscribe: () => this.gapHandlers.delete(handler) };
  }

  /** Resolves once the live feed runs (for tests and tools that start a bus by hand). */
  async started(): Promise<void> {
    await this.feedStarting;
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
    if (this.closed) return;
    if (!this.events) {
      // before the first connection: keep the few a starting gateway makes (its hello)
      if (this.early.length < EARLY_EVENTS) this.early.push(event);
      return;
    }
    if (this.link.nc.isClosed()) return;
    // Ephemeral: while disconnected the client buffers a little and drops the rest.
    try {
      this.link.nc.publish(EVENTS_SUBJECT, JSON.stringify(event));
    } catch (error) {
      reportInternalError('bus_event', error, this.log);
    }
  }

  maxEventBytes(): number {
    if (!this.events) return FALLBACK_MAX_PAYLOAD;
    // the connected server's limit (kept from the last one while reconnecting)
    return this.link.nc.info?.max_payload ?? FALLBACK_MAX_PAYLOAD;
  }

  onEvent(handler: (event: RoomEvent) => void): Subscription {
    return this.listeners.onEvent(handler);
  }

  onAccessChange(handler: (update: AccessUpdate) => void): Subscription {
    return this.listeners.onAccessChange(handler);
  }

  /** The stream sequence the feed has passed, once it runs (waits as long as it takes). */
  async accessFeedPosition(): Promise<number> {
    while (this.lastSeq === undefined) {
      if (this.closed) throw new UnavailableError('The bus is closed');
      await this.feedPositioned(this.options.publishTimeoutMs);
    }
    return this.lastSeq;
  }

  isReady(): boolean {
    return !this.closed && this.link.isConnected() && this.feed !== undefined;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.events?.unsubscribe();
    for (const wake of this.feedWaiters) wake();
    await this.feed?.close();
  }

  private listenToEvents(): void {
    this.events = this.link.nc.subscribe(EVENTS_SUBJECT, {
      callback: (error, msg) => {
        if (error) return;
        const event = parsePayload(msg.data, isRoomEvent, 'a room event');
        if (!event.ok) {
          reportInternalError('room_event', new MalformedPayloadError(event.reason), this.log);
          return;
        }
        this.listeners.emit(event.value);
      },
    });
    for (const event of this.early.splice(0)) this.publishEvent(event);
  }

  private feedPositioned(waitMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.feedWaiters.delete(wake);
        resolve(this.lastSeq !== undefined);
      }, waitMs);
      const wake = () => {
        clearTimeout(timer);
        this.feedWaiters.delete(wake);
        resolve(this.lastSeq !== undefined);
      };
      this.feedWaiters.add(wake);
    });
  }

  /**
   * After a reconnect the feed is made anew from its own position, whatever became of the old
   * consumer on the server (an ordered consumer lives in memory and a restarted nats-server has
   * lost it; nats.js's own recovery of it was seen to stall): nothing accepted after the
   * reconnect is missed, and nothing is passed on twice (`deliver` skips what it has passed).
   */
  private restartFeed(): void {
    if (this.closed) return;
    if (this.feedStarting) {
      this.feedRestartWanted = true;
      return;
    }
    const old = this.feed;
    this.feed = undefined;
    void old?.close();
    this.feedStarting = this.runFeed().finally(() => this.feedStarted());
  }

  private feedStarted(): void {
    this.feedStarting = undefined;
    if (this.feedRestartWanted) {
      this.feedRestartWanted = false;
      this.restartFeed();
    }
  }

  /** Starts the ordered consumer once the stream exists, retrying until it runs. */
  private async runFeed(): Promise<void> {
    while (!this.closed) {
      try {
        const info = await streamInfo(this.link.jsm);
        if (info) {
          const consumer = await this.link.js.consumers.get(STREAM, {
            filter_subjects: MESSAGE_SUBJECTS,
            deliver_policy: DeliverPolicy.StartSequence,
            opt_start_seq: this.resumeAfter(info.state) + 1,
          });
          if (this.closed) return;
          this.feed = await consumer.consume({ callback: (msg) => this.deliver(msg) });
          for (const wake of [...this.feedWaiters]) wake();
          return;
        }
        this.log.warn('stream CHAT does not exist yet: waiting for the history service');
      } catch (error) {
        this.log.warn({ err: error }, 'cannot start the live feed yet; retrying');
      }
      await new Promise((resolve) => setTimeout(resolve, STREAM_WAIT_MS));
    }
  }

  /**
   * Where the feed goes on: after what it passed on last, or, at its first start, after the
   * stream's last message. When the stream no longer holds what follows its position (it was
   * lost and recreated, or messages expired before this gateway read them), this gateway cannot
   * tell its clients what they missed: they are told to rejoin (`onGap`), and come back with
   * `since=` to the history service.
   */
  private resumeAfter(state: { first_seq: number; last_seq: number }): number {
    if (this.lastSeq === undefined) {
      this.lastSeq = state.last_seq;
      return this.lastSeq;
    }
    if (state.last_seq < this.lastSeq || state.first_seq > this.lastSeq + 1) {
      this.log.warn(
        { position: this.lastSeq, first: state.first_seq, last: state.last_seq },
        'the stream no longer holds what follows this gateway’s position: clients rejoin',
      );
      for (const handler of this.gapHandlers) handler();
      this.lastSeq = Math.min(this.lastSeq, state.last_seq);
    }
    return this.lastSeq;
  }

  private deliver(msg: JsMsg): void {
    if (this.lastSeq !== undefined && msg.seq <= this.lastSeq) return;
    this.lastSeq = msg.seq;
    if (msg.subject === ACCESS_SUBJECT) {
      this.deliverAccess(msg);
      return;
    }
    const room = roomOfSubject(msg.subject);
    if (room === undefined || !this.listeners.listensTo(room)) return;
    const read = readRoomEntry(msg);
    if (!read.ok) {
      reportInternalError('stream_message', new MalformedPayloadError(read.reason), this.log);
      return;
    }
    const entry = read.value;
    if (entry.kind === 'change') {
      this.listeners.deliver(roomChangeOf(entry.payload, msg.seq));
      return;
    }
    const payload = entry.payload;
    const message: Message = {
      id: msg.seq,
      server_id: payload.server_id,
      username: payload.username,
      text: payload.text,
      ts: payload.ts,
      seq: msg.seq,
    };
    if (payload.reply_to !== undefined) message.reply_to = payload.reply_to;
    if (payload.attachments !== undefined) message.attachments = payload.attachments.map(withUrl);
    this.listeners.deliver({ type: 'message', message });
  }

  /** An access event: checked, then its change (if it makes one) to the access listeners. */
  private deliverAccess(msg: JsMsg): void {
    const read = readAccessEvent(msg);
    if (!read.ok) {
      reportInternalError('access_event', new MalformedPayloadError(read.reason), this.log);
      return;
    }
    const made = accessChangeOf(read.value);
    if (made) this.listeners.emitAccessChange({ seq: msg.seq, change: made.change });
    this.listeners.emitReaderTriggers(readerTriggersOf(read.value), msg.seq);
  }
}
