import { createHash } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { Subscription as NatsSubscription } from '@nats-io/transport-node';
import { DeliverPolicy } from '@nats-io/jetstream';
import type { ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import type { Message, MessageDraft } from '../../domain/message.ts';
import { UnavailableError } from '../../errors.ts';
import { reportInternalError } from '../../internal-errors.ts';
import { BusListeners } from '../listeners.ts';
import type { MessageBus, PublishResult, RoomEvent, Subscription } from '../types.ts';
import type { NatsLink } from './connection.ts';
import { streamInfo } from './stream.ts';
import { EVENTS_SUBJECT, MESSAGE_SUBJECTS, STREAM, messageSubject } from './subjects.ts';
import type { StreamPayload } from './subjects.ts';

export interface NatsBusOptions {
  publishTimeoutMs: number;
}

const ROOM_OF = /^chat\.(\d+)$/;
const STREAM_WAIT_MS = 1000;
/** Only for the type: `nc.info` is set from the first connect on, which connectNats awaits. */
const FALLBACK_MAX_PAYLOAD = 64 * 1024;

/**
 * The gateway's bus in NATS mode. Messages are published into the JetStream stream (the PubAck's
 * sequence is the message id; `client_id` de-duplication is JetStream's `Nats-Msg-Id` within the
 * stream's duplicate window). Live messages come from one ordered consumer over `chat.*`, started
 * at "new" when the gateway starts, so this gateway sees every room in stream order. Room events
 * travel on core NATS.
 */
export class NatsBus implements MessageBus {
  private readonly listeners = new BusListeners();
  private readonly events: NatsSubscription;
  private messages: ConsumerMessages | undefined;
  private readonly consuming: Promise<void>;
  private closed = false;

  constructor(
    private readonly link: NatsLink,
    private readonly options: NatsBusOptions,
    private readonly log: FastifyBaseLogger,
  ) {
    this.events = link.nc.subscribe(EVENTS_SUBJECT, {
      callback: (error, msg) => {
        if (error) return;
        let event: RoomEvent;
        try {
          event = msg.json<RoomEvent>();
        } catch {
          return;
        }
        this.listeners.emit(event);
      },
    });
    this.consuming = this.startConsumer();
  }

  async publish(draft: MessageDraft): Promise<PublishResult> {
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

  subscribe(serverId: number, onMessage: (message: Message) => void): Promise<Subscription> {
    // Until the live feed runs, a join could not tell what it missed: refuse it (1013, retry).
    if (!this.messages) {
      return Promise.reject(new UnavailableError('The live message feed is not running yet'));
    }
    return Promise.resolve(this.listeners.onRoom(serverId, onMessage));
  }

  /** Resolves once the live feed runs (for tests and tools that start a bus by hand). */
  async started(): Promise<void> {
    await this.consuming;
  }

  publishEvent(event: RoomEvent): void {
    if (this.closed || this.link.nc.isClosed()) return;
    // Ephemeral: while disconnected the client buffers a little and drops the rest.
    try {
      this.link.nc.publish(EVENTS_SUBJECT, JSON.stringify(event));
    } catch (error) {
      reportInternalError('bus_event', error, this.log);
    }
  }

  maxEventBytes(): number {
    // the connected server's limit (kept from the last one while reconnecting)
    return this.link.nc.info?.max_payload ?? FALLBACK_MAX_PAYLOAD;
  }

  onEvent(handler: (event: RoomEvent) => void): Subscription {
    return this.listeners.onEvent(handler);
  }

  isReady(): boolean {
    return !this.closed && this.link.isConnected() && this.messages !== undefined;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.events.unsubscribe();
    await this.messages?.close();
  }

  /**
   * Starts the ordered consumer once the stream exists (the history service creates it),
   * retrying until it runs: a gateway may start before NATS or the history service.
   */
  private async startConsumer(): Promise<void> {
    while (!this.closed) {
      try {
        if (await streamInfo(this.link.jsm)) {
          const consumer = await this.link.js.consumers.get(STREAM, {
            filter_subjects: MESSAGE_SUBJECTS,
            deliver_policy: DeliverPolicy.New,
          });
          this.messages = await consumer.consume({ callback: (msg) => this.deliver(msg) });
          return;
        }
        this.log.warn('stream CHAT does not exist yet: waiting for the history service');
      } catch (error) {
        this.log.warn({ err: error }, 'cannot start the live feed yet; retrying');
      }
      await new Promise((resolve) => setTimeout(resolve, STREAM_WAIT_MS));
    }
  }

  private deliver(msg: JsMsg): void {
    const room = ROOM_OF.exec(msg.subject);
    if (!room || !this.listeners.listensTo(Number(room[1]))) return;
    let payload: StreamPayload;
    try {
      payload = msg.json<StreamPayload>();
    } catch {
      this.log.warn({ seq: msg.seq }, 'skipping a stream message that is not JSON');
      return;
    }
    this.listeners.deliver({
      id: msg.seq,
      server_id: payload.server_id,
      username: payload.username,
      text: payload.text,
      ts: payload.ts,
    });
  }
}

/** The JetStream message id of an idempotent send: one per (room, username, client_id). */
export function dedupeId(draft: MessageDraft): string {
  return createHash('sha256')
    .update(JSON.stringify([draft.serverId, draft.username, draft.clientId]))
    .digest('base64url');
}
