import type { FastifyBaseLogger } from 'fastify';
import type { RawData } from 'ws';
import type { HistoryClient, MessageBus } from '../../bus/types.ts';
import type { Config } from '../../config.ts';
import { isValidAttachmentList } from '../../domain/attachments.ts';
import { checkMessageText } from '../../domain/message.ts';
import type { MessageDraft } from '../../domain/message.ts';
import type { RoomPresence } from '../../domain/presence.ts';
import { TokenBucket } from '../../domain/token-bucket.ts';
import { ChatError, ERRORS } from '../../errors.ts';
import { isOneEmoji } from '../../domain/changes.ts';
import type { ChangeRequest } from '../../domain/changes.ts';
import type { ChangeFrame, ClientFrame, CloseCode, FrameErrorCode } from '../../protocol.ts';
import {
  CLOSE,
  HISTORY_MESSAGES_MAX_BYTES,
  isFrameCode,
  parseClientFrame,
  serialize,
} from '../../protocol.ts';
import type { GatewayMetrics } from '../metrics.ts';
import { SendBuffer } from './send-buffer.ts';
import { presenceFrame, textOf } from './session-frames.ts';
import type { SessionSocket } from './send-buffer.ts';
import type { UnreadHub, UnreadSocket } from './unread-hub.ts';

/** What a session does in its room (on a gateway, the RoomHub does it). */
export interface RoomEntry {
  /** Resolves once live messages reach the session: a replay read afterwards misses nothing. */
  enter(session: ChatSession): Promise<void>;
  exit(session: ChatSession): void;
  typing(session: ChatSession): void;
  /** Who is in the room, for the join's `presence` frame. */
  readonly presence: Pick<RoomPresence, 'page' | 'size'>;
}

/** The settings a session reads. */
export type SessionConfig = Pick<
  Config,
  | 'rateLimit'
  | 'historyReplay'
  | 'maxMessageChars'
  | 'sendBufferLimit'
  | 'typingThrottleMs'
  | 'closeGraceMs'
>;

export interface SessionDeps {
  config: SessionConfig;
  bus: Pick<MessageBus, 'publish' | 'change'>;
  history: Pick<HistoryClient, 'replay'>;
  hub: RoomEntry;
  metrics: Pick<GatewayMetrics, 'errors' | 'slowClosed' | 'messagesIn'>;
  log: FastifyBaseLogger;
  /** Whether a room is archived (read-only), from memory: the access state (none in open mode). */
  isArchived?: (serverId: number) => boolean;
  /** `unread` and `mention` frames, and `read` frames' markers. */
  unread?: Pick<UnreadHub, 'attach' | 'detach' | 'read'>;
}

export interface SessionTarget {
  serverId: number;
  username: string;
  /** From the credentials: an admin may delete any message. */
  admin: boolean;
  since: number | undefined;
}

/** Most messages a `since` catch-up sends in its history frame; the rest is paged over REST. */
export const SINCE_LIMIT = 1000;

type State = 'joining' | 'open' | 'closed';

/** `unread` and `mention` frames kept for a joining client (more are dropped: it reads REST). */
const MAX_NOTICES_DURING_JOIN = 100;

/**
 * One WebSocket connection in one room. While joining it buffers live changes and the client's
 * frames; once the replay is sent it merges the buffer by seq, so that the client sees every
 * change once, with no gap.
 */
export class ChatSession implements UnreadSocket {
  readonly serverId: number;
  readonly username: string;
  private state: State = 'joining';
  /** The client's position: the largest seq it has been sent (replay or live). */
  private watermark = 0;
  private readonly liveDuringJoin: Array<{ seq: number; frame: string }> = [];
  private readonly inboxDuringJoin: RawData[] = [];
  private readonly noticesDuringJoin: string[] = [];
  private readonly rate: TokenBucket | undefined;
  private lastTypingAt = -Infinity;
  private readonly outgoing: SendBuffer;
  alive = true;

  constructor(
    private readonly socket: SessionSocket,
    private readonly target: SessionTarget,
    private readonly deps: SessionDeps,
  ) {
    this.outgoing = new SendBuffer(socket);
    this.serverId = target.serverId;
    this.username = target.username;
    const { rateLimit } = deps.config;
    this.rate = rateLimit > 0 ? new TokenBucket(rateLimit, rateLimit * 2) : undefined;
    // Listeners go on before any await, so that no early frame is lost.
    socket.on('message', (data, isBinary) => this.onFrame(data, isBinary));
    socket.on('pong', () => (this.alive = true));
    socket.on('close', () => this.onClose());
    socket.on('error', (error) => deps.log.debug({ err: error }, 'websocket error'));
  }

  /** Enters the room and sends the replay and presence. */
  async start(): Promise<void> {
    const { hub, history, config } = this.deps;
    // closed before it could enter (its credentials ended while the room was looked up)
    if (this.isClosed()) return;
    try {
      await hub.enter(this);
      if (this.isClosed()) return;
      this.deps.unread?.attach(this);
      const replay = await history.replay({
        serverId: this.serverId,
        since: this.target.since,
        replayCount: config.historyReplay,
        sinceLimit: SINCE_LIMIT,
        maxBytes: HISTORY_MESSAGES_MAX_BYTES,
      });
      if (this.isClosed()) return;
      this.sendJoinFrame(
        serialize({
          type: 'history',
          messages: replay.messages,
          updates: replay.updates,
          last_id: replay.lastId,
          last_seq: replay.lastSeq,
          ...(replay.more ? { more: true as const } : {}),
          ...(replay.moreUpdates ? { more_updates: true as const } : {}),
          ...(replay.reset ? { reset: true as const } : {}),
        }),
      );
      this.watermark = replay.lastSeq;
      this.sendJoinFrame(presenceFrame(hub.presence, this.serverId));
      this.state = 'open';
      for (const live of this.liveDuringJoin.splice(0)) this.deliverChange(live.seq, live.frame);
      for (const notice of this.noticesDuringJoin.splice(0)) this.send(notice);
      for (const data of this.inboxDuringJoin.splice(0)) this.handleText(textOf(data));
    } catch (error) {
      this.deps.log.warn(
        { err: error, serverId: this.serverId },
        'join failed: history unreadable',
      );
      this.close(CLOSE.tryAgainLater, 'history unavailable, try again later');
    }
  }

  /** Re-read after every await: the client may have gone meanwhile. */
  private isClosed(): boolean {
    return this.state === 'closed';
  }

  /**
   * Sends a live change (a message, an edit, a delete, a reaction) unless the client has it
   * already: the replay holds every change up to its `last_seq`. Returns whether it was sent.
   */
  deliverChange(seq: number, frame: string): boolean {
    if (this.state === 'joining') {
      this.liveDuringJoin.push({ seq, frame });
      return false;
    }
    if (this.state === 'closed' || seq <= this.watermark) return false;
    this.watermark = seq;
    return this.send(frame);
  }

  /** join / leave / presence_diff: the presence frame of a joining session already covers them. */
  deliverPresence(frame: string): void {
    if (this.state === 'open') this.send(frame);
  }

  /** `unread` and `mention` frames: after the join's frames, like everything live. */
  deliverNotice(frame: string): void {
    if (this.state === 'joining') {
      if (this.noticesDuringJoin.length < MAX_NOTICES_DURING_JOIN)
        this.noticesDuringJoin.push(frame);
      return;
    }
    this.send(frame);
  }

  /** Frames that may be dropped for a client that falls behind (typing). */
  deliverEphemeral(frame: string): void {
    if (this.state !== 'open') return;
    if (this.outgoing.queuedBytes() > this.deps.config.sendBufferLimit / 2) return;
    this.send(frame);
  }

  ping(): void {
    if (!this.alive) {
      this.deps.log.debug({ username: this.username }, 'no pong: closing dead connection');
      this.socket.terminate();
      return;
    }
    this.alive = false;
    this.socket.ping();
  }

  close(code: CloseCode, reason: string): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.deps.hub.exit(this);
    this.deps.unread?.detach(this);
    this.deps.metrics.errors.inc({ code: String(code) });
    this.socket.close(code, reason);
    // The close frame waits behind what the client has not read yet: a client that stopped
    // reading never gets to it, so its connection is cut after CLOSE_GRACE (it sees 1006).
    setTimeout(() => this.socket.terminate(), this.deps.config.closeGraceMs).unref();
  }

  /** Sends one frame; past the send buffer limit the client is too slow and is closed. */
  private send(frame: string): boolean {
    if (this.state === 'closed' || !this.outgoing.isOpen()) return false;
    if (this.outgoing.queuedBytes() > this.deps.config.sendBufferLimit) {
      this.deps.metrics.slowClosed.inc();
      this.close(CLOSE.tooSlow, 'too slow: send buffer full');
      return false;
    }
    this.outgoing.send(frame);
    return true;
  }

  /**
   * Sends a frame of the join (history, presence) outside the send-buffer limit: a big replay is
   * what the client asked for, not a sign that it is slow.
   */
  private sendJoinFrame(frame: string): void {
    if (this.state === 'closed' || !this.outgoing.isOpen()) return;
    this.outgoing.sendJoinFrame(frame);
  }

  private onFrame(data: RawData, isBinary: boolean): void {
    if (this.state === 'closed') return;
    if (isBinary) {
      this.sendError('bad_request', 'binary frames are not supported; send JSON text frames');
      return;
    }
    if (this.state === 'joining') {
      this.inboxDuringJoin.push(data);
      return;
    }
    this.handleText(textOf(data));
  }

  private handleText(text: string): void {
    const parsed = parseClientFrame(text);
    if (!parsed.ok) {
      this.sendError('bad_request', parsed.message, parsed.clientId);
      return;
    }
    this.handleFrame(parsed.frame);
  }

  private handleFrame(frame: ClientFrame): void {
    switch (frame.type) {
      case 'ping':
        this.send(serialize({ type: 'pong' }));
        return;
      case 'read':
        this.deps.unread?.read(this, frame.id);
        return;
      case 'typing': {
        const now = performance.now();
        if (now - this.lastTypingAt < this.deps.config.typingThrottleMs) return;
        this.lastTypingAt = now;
        this.deps.hub.typing(this);
        return;
      }
      case 'message':
        if (this.mayWrite(frame.client_id) && this.messageFits(frame)) {
          const { text, client_id: clientId, reply_to: replyTo, attachments } = frame;
          this.publishMessage({ text, clientId, replyTo, attachments });
        }
        return;
      case 'edit':
      case 'delete':
      case 'react':
        if (this.mayWrite(frame.client_id)) this.handleChange(frame);
        return;
    }
  }

  /** RATE_LIMIT counts every frame that changes the room; an archived room takes none. */
  private mayWrite(clientId: string | undefined): boolean {
    if (this.rate && !this.rate.take()) {
      this.sendError('rate_limited', ERRORS.rate_limited.message, clientId);
      return false;
    }
    if (this.deps.isArchived?.(this.serverId)) {
      this.sendError('forbidden', 'This room is archived: it is read-only', clientId);
      return false;
    }
    return true;
  }

  /** The text rules of a message, for a message and an edit alike. */
  private textFits(text: string, clientId: string | undefined): boolean {
    const problem = checkMessageText(text, this.deps.config.maxMessageChars);
    if (problem === 'malformed') {
      this.sendError('bad_request', 'the text holds a lone surrogate (not Unicode)', clientId);
    } else if (problem === 'empty') {
      this.sendError('empty', ERRORS.empty.message, clientId);
    } else if (problem === 'too_long') {
      const max = this.deps.config.maxMessageChars;
      this.sendError('too_long', `A message has at most ${max} characters`, clientId);
    }
    return problem === undefined;
  }

  /** A message's text and attachments: with attachments, the text may be empty. */
  private messageFits(frame: Extract<ClientFrame, { type: 'message' }>): boolean {
    const clientId = frame.client_id;
    if (frame.attachments === undefined) return this.textFits(frame.text, clientId);
    if (!isValidAttachmentList(frame.attachments)) {
      this.sendError('bad_attachment', ERRORS.bad_attachment.message, clientId);
      return false;
    }
    return frame.text.trim() === '' || this.textFits(frame.text, clientId);
  }

  private publishMessage(message: Omit<MessageDraft, 'serverId' | 'username'>): void {
    const clientId = message.clientId;
    const draft = { serverId: this.serverId, username: this.username, ...message };
    this.deps.bus.publish(draft).then(
      ({ id, duplicate }) => {
        if (!duplicate) this.deps.metrics.messagesIn.inc();
        this.send(serialize({ type: 'ack', client_id: clientId ?? null, id, seq: id }));
      },
      (error: unknown) => this.refused(error, clientId),
    );
  }

  private handleChange(frame: ChangeFrame): void {
    const clientId = frame.client_id;
    // an edit to empty text is storage's to judge: a message with attachments may have none
    if (frame.type === 'edit' && frame.text.trim() !== '' && !this.textFits(frame.text, clientId)) {
      return;
    }
    if (frame.type === 'react' && !isOneEmoji(frame.emoji)) {
      this.sendError('bad_emoji', ERRORS.bad_emoji.message, clientId);
      return;
    }
    const who = { serverId: this.serverId, id: frame.id, username: this.username };
    const optional = clientId === undefined ? {} : { clientId };
    const request: ChangeRequest =
      frame.type === 'edit'
        ? { kind: 'edit', ...who, text: frame.text, ...optional }
        : frame.type === 'delete'
          ? { kind: 'delete', ...who, admin: this.target.admin, ...optional }
          : { kind: 'react', ...who, emoji: frame.emoji, on: frame.on, ...optional };
    this.deps.bus.change(request).then(
      ({ id, seq }) => this.send(serialize({ type: 'ack', client_id: clientId ?? null, id, seq })),
      (error: unknown) => this.refused(error, clientId),
    );
  }

  /** A refusal of storage is its own code; anything else may or may not have been stored. */
  private refused(error: unknown, clientId: string | undefined): void {
    if (error instanceof ChatError && error.code !== 'unavailable' && isFrameCode(error.code)) {
      this.sendError(error.code, error.message, clientId);
      return;
    }
    this.deps.log.warn({ err: error }, 'change not confirmed');
    const message = error instanceof ChatError ? error.message : ERRORS.unavailable.message;
    this.sendError('unavailable', message, clientId);
  }

  private sendError(code: FrameErrorCode, message: string, clientId?: string): void {
    this.deps.metrics.errors.inc({ code });
    this.send(
      serialize({
        type: 'error',
        code,
        message,
        ...(clientId !== undefined ? { client_id: clientId } : {}),
      }),
    );
  }

  private onClose(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.deps.hub.exit(this);
    this.deps.unread?.detach(this);
  }
}
