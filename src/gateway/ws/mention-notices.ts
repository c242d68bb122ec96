import type { FastifyBaseLogger } from 'fastify';
import type { HistoryClient } from '../../bus/types.ts';
import type { Mentions } from '../../domain/mentions.ts';
import type { Message } from '../../domain/message.ts';
import type { RoomUnread } from '../../domain/unread.ts';
import { serialize } from '../../protocol.ts';
import type { MentionReason } from '../../protocol.ts';

/** A local user as the notices see them: their rooms and their sockets. */
export interface NoticeUser {
  readonly username: string;
  readonly rooms: ReadonlyMap<number, RoomUnread>;
  send(frame: string): void;
}

export interface MentionNoticesOptions {
  /** Whether live messages carry their `mentions` (embedded mode) or storage must say (NATS). */
  liveMentions: boolean;
  retryMs: number;
  /** Tries of a lookup before its message's notices are given up. */
  maxTries: number;
}

interface Lookup {
  message: Message;
  seq: number;
  tries: number;
  /** Only this user (a room that became theirs after the message came): else the room's. */
  only: NoticeUser | undefined;
}

/**
 * `mention` frames: to each local user a new message mentions (`mention`), to the other member of
 * a DM (`dm`), and to each user whose level for the room is `all` (`all`), but its sender; once
 * per message and user, in the first of these reasons that applies, whatever room their sockets
 * are in. In NATS mode the live message does not carry its mentions (the gateway that sends it
 * does not know the users): a message with an `@` waits until storage, which found them when it
 * stored the message, says what they are (one request for every message collected meanwhile).
 */
export class MentionNotices {
  private lookups: Lookup[] = [];
  private timer: NodeJS.Timeout | undefined;
  private asking = false;
  private closed = false;

  constructor(
    private readonly history: Pick<HistoryClient, 'mentionsOf'>,
    /** The local users who have the room among theirs, now. */
    private readonly usersOf: (serverId: number) => Iterable<NoticeUser>,
    private readonly options: MentionNoticesOptions,
    private readonly log: FastifyBaseLogger,
  ) {}

  /**
   * A new message (at stream sequence `seq`) in a room some local users have among theirs;
   * `only`: to this user alone.
   */
  message(message: Message, seq: number, only?: NoticeUser): void {
    if (this.options.liveMentions || !message.text.includes('@')) {
      this.send(message, only);
      return;
    }
    this.lookups.push({ message, seq, tries: 0, only });
    this.later(0);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }

  private later(delayMs: number): void {
    if (this.timer || this.asking || this.closed) return;
    this.timer = setTimeout(() => void this.ask(), delayMs);
    this.timer.unref();
  }

  private async ask(): Promise<void> {
    this.timer = undefined;
    this.asking = true;
    const batch = this.lookups;
    this.lookups = [];
    const after = Math.max(...batch.map((lookup) => lookup.seq));
    let answers: Array<Mentions | null> | undefined;
    try {
      answers = await this.history.mentionsOf(
        batch.map(({ message }) => [message.server_id, message.id] as const),
        after,
      );
    } catch (error) {
      this.log.warn({ err: error, messages: batch.length }, 'mentions not known yet; retrying');
      const again = batch.filter((lookup) => ++lookup.tries < this.options.maxTries);
      this.lookups = [...again, ...this.lookups];
    } finally {
      this.asking = false;
    }
    batch.forEach((lookup, i) => {
      const found = answers?.[i];
      // null: deleted meanwhile (no notice for what is gone)
      if (found) this.send(withMentions(lookup.message, found), lookup.only);
    });
    if (this.lookups.length > 0) this.later(answers ? 0 : this.options.retryMs);
  }

  /** Serializes each reason's frame once; the same string goes to every socket of its users. */
  private send(message: Message, only: NoticeUser | undefined): void {
    const frames = new Map<MentionReason, string>();
    const named = new Set(message.mentions);
    for (const user of only ? [only] : this.usersOf(message.server_id)) {
      if (user.username === message.username) continue;
      const room = user.rooms.get(message.server_id);
      if (!room) continue;
      const reason: MentionReason | undefined =
        message.mention_room || named.has(user.username)
          ? 'mention'
          : room.dm
            ? 'dm'
            : room.notify === 'all'
              ? 'all'
              : undefined;
      if (!reason) continue;
      let frame = frames.get(reason);
      if (frame === undefined) {
        frame = serialize({ type: 'mention', server_id: message.server_id, message, reason });
        frames.set(reason, frame);
      }
      user.send(frame);
    }
  }
}

function withMentions(message: Message, found: Mentions): Message {
  const copy: Message = { ...message };
  if (found.mentions.length > 0) copy.mentions = found.mentions;
  if (found.mention_room) copy.mention_room = true;
  return copy;
}
