/**
 * Changes to a room's messages after they were sent: edits, deletes, reactions. Each takes a seq
 * from the counter of message ids, so that every client of the room sees them, and the messages,
 * in one order. Storage judges a change against the message as it is (author, edit window,
 * limits) and applies it, one at a time per room.
 */
import type { Message } from './message.ts';

/** A change a user asks for; who asks comes from their credentials. */
export type ChangeRequest =
  | {
      kind: 'edit';
      serverId: number;
      id: number;
      username: string;
      text: string;
      clientId?: string;
    }
  | {
      kind: 'delete';
      serverId: number;
      id: number;
      username: string;
      /** From the credentials: an admin may delete any message. */
      admin: boolean;
      clientId?: string;
    }
  | {
      kind: 'react';
      serverId: number;
      id: number;
      username: string;
      emoji: string;
      on: boolean;
      clientId?: string;
    };

/** What subscribers of a room receive, in seq order: a new message or a change to one. */
export type RoomChange =
  | { type: 'message'; message: Message }
  | {
      type: 'edit';
      server_id: number;
      id: number;
      seq: number;
      text: string;
      edited_at: string;
      /** The edited text's mentions (recomputed); absent: none. */
      mentions?: string[];
      mention_room?: true;
    }
  | { type: 'delete'; server_id: number; id: number; seq: number }
  | {
      type: 'reaction';
      server_id: number;
      id: number;
      seq: number;
      emoji: string;
      username: string;
      on: boolean;
      count: number;
    };

/** The seq a room change carries (a message's is its id). */
export function seqOf(change: RoomChange): number {
  return change.type === 'message' ? change.message.seq : change.seq;
}

/** How a change was taken: its seq (a no-op reaction: the message's), `duplicate` for a resend. */
export interface ChangeResult {
  id: number;
  seq: number;
  duplicate: boolean;
}

/** Why storage refused a change (each is an `error` frame code). */
export type ChangeRefusal =
  | 'not_found'
  | 'forbidden'
  | 'edit_window'
  | 'too_many_reactions'
  /** An edit to empty (or white space only) text of a message without attachments. */
  | 'empty';

/** How a change was applied: the room change to fan out, or a resend, a no-op, or a refusal. */
export type ChangeOutcome =
  /** `erase`: for a delete, the log positions that held the message's text (its id, its edits). */
  | { kind: 'applied'; id: number; seq: number; change: RoomChange; erase?: number[] }
  /** A resend of a change already taken, or a reaction already so: nothing new, no frame. */
  | { kind: 'unchanged'; id: number; seq: number; duplicate: boolean }
  | { kind: 'refused'; refusal: ChangeRefusal };

/** The contract's reaction limits, per message. */
export const MAX_DISTINCT_EMOJI = 20;
export const MAX_REACTIONS = 1000;

// built at run time: the v flag is newer than the compile target (Node 20 has it)
const ONE_EMOJI = new RegExp('^\\p{RGI_Emoji}$', 'v');

/** Exactly one emoji of Unicode's RGI set ("👍", "👍🏽", "🇫🇷"). */
export function isOneEmoji(text: string): boolean {
  return ONE_EMOJI.test(text);
}
