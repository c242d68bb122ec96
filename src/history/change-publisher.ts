import type { ChangeRequest, ChangeResult, RoomChange } from '../domain/changes.ts';
import type { MessageDraft } from '../domain/message.ts';
import { ChatError, UnavailableError } from '../errors.ts';
import type { NatsLink } from '../nats/connection.ts';
import { lastSeqOf } from '../nats/stream.ts';
import { dedupeId } from '../nats/stream-message.ts';
import type { ChangeFrame, ChangePayload, StreamPayload } from '../nats/stream-message.ts';
import { messageSubject } from '../nats/subjects.ts';
import type { HistoryService } from './history-service.ts';
import type { StreamApplier } from './stream-applier.ts';

/**
 * NATS mode: what gateways cannot judge without storage. An edit, delete or reaction, or a
 * message with `reply_to` or `attachments`, is judged here against the store (by the very code
 * that applies it), published to the room's subject, and answered: a change once this service
 * applied it (its seq is the stream sequence), a reply once the stream has it (as any message),
 * a message with attachments once applied (so that the next check sees its uploads taken). One
 * at a time per room, so that what was judged is what gets applied (a reaction's count included).
 */
export class ChangePublisher {
  private readonly queues = new Map<number, Promise<unknown>>();

  constructor(
    private readonly history: HistoryService,
    private readonly link: NatsLink,
    private readonly applier: StreamApplier,
    private readonly timeoutMs: number,
    private readonly dedupeWindowMs: number,
  ) {}

  change(request: ChangeRequest): Promise<ChangeResult> {
    return this.inRoom(request.serverId, () => this.publishChange(request));
  }

  reply(draft: MessageDraft): Promise<{ id: number; duplicate: boolean }> {
    return this.inRoom(draft.serverId, () => this.publishReply(draft));
  }

  private async publishChange(request: ChangeRequest): Promise<ChangeResult> {
    const at = new Date().toISOString();
    let judged = this.history.checkChange(request, at);
    if (judged.kind === 'refused' && judged.refusal === 'not_found') {
      // its message may be acked (in the stream) and not applied here yet: judged again after
      await this.caughtUp(request.serverId);
      judged = this.history.checkChange(request, at);
    }
    if (judged.kind === 'refused') throw new ChatError(judged.refusal);
    if (judged.kind === 'unchanged') {
      return { id: judged.id, seq: judged.seq, duplicate: judged.duplicate };
    }
    const payload: ChangePayload = { type: 'change', request, at, frame: frameOf(judged.change) };
    const ack = await this.publish(
      request.serverId,
      payload,
      request.clientId,
      request.kind,
      request.username,
    );
    if (ack.duplicate) return { id: request.id, seq: ack.seq, duplicate: true };
    await this.applier.waitApplied(ack.seq);
    const outcome = this.applier.takeChangeOutcome(ack.seq);
    if (!outcome) throw new UnavailableError('The change was not applied');
    if (outcome.kind === 'refused') throw new ChatError(outcome.refusal);
    return { id: request.id, seq: outcome.seq, duplicate: outcome.kind === 'unchanged' };
  }

  private async publishReply(draft: MessageDraft): Promise<{ id: number; duplicate: boolean }> {
    const ts = new Date().toISOString();
    const attachments = draft.attachments && this.attachmentsOf(draft, ts);
    if (typeof attachments === 'number') return { id: attachments, duplicate: true };
    const replyTo = draft.replyTo;
    if (replyTo !== undefined && !(await this.repliesTo(draft.serverId, replyTo))) {
      throw new ChatError('bad_reply');
    }
    const payload: StreamPayload = {
      server_id: draft.serverId,
      username: draft.username,
      text: draft.text,
      ts,
      ...(draft.clientId !== undefined && { client_id: draft.clientId }),
      ...(replyTo !== undefined && { reply_to: replyTo }),
      ...(attachments && { attachments }),
    };
    const ack = await this.publish(
      draft.serverId,
      payload,
      draft.clientId,
      undefined,
      draft.username,
    );
    // the next message of the room is judged once this one holds its uploads
    if (attachments && !ack.duplicate) await this.applier.waitApplied(ack.seq);
    return { id: ack.seq, duplicate: ack.duplicate };
  }

  /**
   * The uploads a message carries, checked against the store (`bad_attachment`); a resend of a
   * message that took them already is answered its id (JetStream's duplicate window aside: the
   * first one is applied, its uploads are taken).
   */
  private attachmentsOf(draft: MessageDraft, ts: string) {
    const since = new Date(Date.parse(ts) - this.dedupeWindowMs).toISOString();
    const first = this.history.sentWithClientId(draft, since);
    if (first !== undefined) return first;
    const usable = this.history.usableAttachments(draft);
    if (!usable) throw new ChatError('bad_attachment');
    return usable;
  }

  private async publish(
    serverId: number,
    payload: ChangePayload | StreamPayload,
    clientId: string | undefined,
    kind: string | undefined,
    username: string,
  ) {
    if (!this.link.isConnected()) {
      throw new UnavailableError('The stream cannot be reached: NATS is disconnected');
    }
    const msgID =
      clientId === undefined
        ? undefined
        : dedupeId({ serverId, username, clientId, ...(kind !== undefined && { kind }) });
    try {
      return await this.link.js.publish(messageSubject(serverId), JSON.stringify(payload), {
        timeout: this.timeoutMs,
        ...(msgID !== undefined && { msgID }),
      });
    } catch (error) {
      throw new UnavailableError(undefined, { cause: error });
    }
  }

  /**
   * Resolves once every message of the room in the stream now is applied here: a message is
   * acked once in the stream, so storage may not have it yet when a change or read follows it.
   */
  async caughtUp(serverId: number): Promise<void> {
    await this.applier.waitApplied(await lastSeqOf(this.link.jsm, serverId));
  }

  /** Whether the message a reply names is there (waiting for the stream only when it is not). */
  private async repliesTo(serverId: number, id: number): Promise<boolean> {
    if (this.history.message(serverId, id)) return true;
    await this.caughtUp(serverId);
    return this.history.message(serverId, id) !== undefined;
  }

  /** Runs `work` after the room's earlier work settled (the sweep of unsent uploads too). */
  inRoom<T>(serverId: number, work: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(serverId) ?? Promise.resolve();
    const next = previous.then(work, work);
    const settled = next.catch(() => undefined);
    this.queues.set(serverId, settled);
    void settled.then(() => {
      if (this.queues.get(serverId) === settled) this.queues.delete(serverId);
    });
    return next;
  }
}

/** The frame every gateway sends, less the seq and room (the stream message gives them). */
function frameOf(change: RoomChange): ChangeFrame {
  switch (change.type) {
    case 'edit':
      return {
        type: 'edit',
        id: change.id,
        text: change.text,
        edited_at: change.edited_at,
        ...(change.mentions && { mentions: change.mentions }),
        ...(change.mention_room && { mention_room: change.mention_room }),
      };
    case 'delete':
      return { type: 'delete', id: change.id };
    case 'reaction':
      return {
        type: 'reaction',
        id: change.id,
        emoji: change.emoji,
        username: change.username,
        on: change.on,
        count: change.count,
      };
    case 'message':
      throw new Error('a message is not a change');
  }
}
