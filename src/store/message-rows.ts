import type Database from 'better-sqlite3';
import { withUrl } from '../domain/attachments.ts';
import { QUOTE_MAX_CHARS } from '../domain/message.ts';
import type { Message, Quote, Reaction, Tombstone } from '../domain/message.ts';
import type { AttachmentsStore } from './attachments-store.ts';

/** A row of `messages` as the queries below read it. */
export interface MessageRow {
  id: number;
  server_id: number;
  username: string;
  text: string;
  ts: string;
  seq: number;
  edited_at: string | null;
  reply_to: number | null;
  deleted: number;
  /** JSON array of usernames; null: none. */
  mentions: string | null;
  mention_room: number;
}

export const MESSAGE_COLUMNS =
  'id, server_id, username, text, ts, seq, edited_at, reply_to, deleted, mentions, mention_room';

/**
 * Turns rows into messages as every answer shows them: absent fields for what a message does not
 * have, its reactions, and the quote of what it replies to, made when read (quotes are never
 * stored, so an edit or delete of the original shows at the next read). A deleted message is a
 * tombstone: no text, nothing else.
 */
export class MessageReader {
  private readonly stmt;

  constructor(
    db: Database.Database,
    private readonly attachments: AttachmentsStore,
  ) {
    this.stmt = {
      reactions: db.prepare<[number], { emoji: string; username: string }>(
        'SELECT emoji, username FROM reactions WHERE message_id = ? ORDER BY seq',
      ),
      quoted: db.prepare<[number], { username: string; text: string }>(
        'SELECT username, text FROM messages WHERE id = ? AND deleted = 0',
      ),
    };
  }

  message(row: MessageRow): Message {
    const message = this.bare(row);
    if (message.reply_to !== undefined) {
      const quote = this.quote(message.reply_to);
      if (quote) message.quote = quote;
    }
    const reactions = this.reactions(row.id);
    if (reactions.length > 0) message.reactions = reactions;
    return message;
  }

  entry(row: MessageRow, decorated = true): Message | Tombstone {
    if (row.deleted === 0) return decorated ? this.message(row) : this.bare(row);
    return {
      id: row.id,
      server_id: row.server_id,
      username: row.username,
      ts: row.ts,
      seq: row.seq,
      deleted: true,
    };
  }

  /** One entry per emoji, in order of first use among its users now; users in reaction order. */
  reactions(messageId: number): Reaction[] {
    const byEmoji = new Map<string, string[]>();
    for (const { emoji, username } of this.stmt.reactions.iterate(messageId)) {
      const users = byEmoji.get(emoji);
      if (users) users.push(username);
      else byEmoji.set(emoji, [username]);
    }
    return [...byEmoji].map(([emoji, users]) => ({ emoji, count: users.length, users }));
  }

  /** The message of a row without what is made when read (reactions, quote): a transcript's. */
  private bare(row: MessageRow): Message {
    const message = bareMessage(row);
    const attachments = this.attachments.ofMessage(row.id);
    if (attachments.length > 0) message.attachments = attachments.map(withUrl);
    return message;
  }

  private quote(id: number): Quote | undefined {
    const row = this.stmt.quoted.get(id);
    if (!row) return undefined;
    return { username: row.username, text: firstCodePoints(row.text, QUOTE_MAX_CHARS) };
  }
}

/** The message of a row's own columns. */
function bareMessage(row: MessageRow): Message {
  const message: Message = {
    id: row.id,
    server_id: row.server_id,
    username: row.username,
    text: row.text,
    ts: row.ts,
    seq: row.seq,
  };
  if (row.edited_at !== null) message.edited_at = row.edited_at;
  if (row.reply_to !== null) message.reply_to = row.reply_to;
  if (row.mentions !== null) message.mentions = JSON.parse(row.mentions) as string[];
  if (row.mention_room === 1) message.mention_room = true;
  return message;
}

function firstCodePoints(text: string, max: number): string {
  if (text.length <= max) return text;
  return Array.from(text).slice(0, max).join('');
}
