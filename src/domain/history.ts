/**
 * What a history query asks and answers: pages of a room's messages and a joining client's
 * replay. Plain data, the same in-process and over NATS.
 */
import type { Message, Tombstone } from './message.ts';
import type { Viewer } from './rooms.ts';

export interface ReplayRequest {
  serverId: number;
  /** The client's position: the last seq it holds (an old client's last message id works too). */
  since?: number | undefined;
  /** Messages for a fresh join (HISTORY_REPLAY). */
  replayCount: number;
  /** Most messages for a `since` catch-up; past that `more` is set. */
  sinceLimit: number;
  /**
   * Most bytes of JSON the messages may take as one array (the frame's envelope is the caller's
   * to leave room for): a `since` catch-up sends fewer and sets `more`, a fresh join sends the
   * newest that fit.
   */
  maxBytes: number;
}

export interface Replay {
  /** Messages with id > since (not deleted), oldest first; a fresh join's: the newest. */
  messages: Message[];
  /** With `since`: the messages with id <= since changed after it, tombstones too, in seq order. */
  updates: Array<Message | Tombstone>;
  /** The room's newest id when the replay was read, deleted messages included. */
  lastId: number;
  /**
   * The room's largest seq when the replay was read: every change up to it is in the replay (or,
   * with the flags, pageable through REST); live changes above it follow.
   */
  lastSeq: number;
  more: boolean;
  moreUpdates: boolean;
  /** `since` was past the room's last seq: the answer is a fresh join's. */
  reset: boolean;
}

export interface MessagePage {
  serverId: number;
  limit: number;
  before?: number | undefined;
  after?: number | undefined;
  /** Messages with seq > this, tombstones included, in seq order (not with before/after). */
  changedAfter?: number | undefined;
  /** Most bytes of JSON the page may take as one array: it then holds fewer than `limit`. */
  maxBytes?: number | undefined;
}

/** A search (contract, "Search"): `q` as sent; storage parses it again (search-query.ts). */
export interface SearchRequest {
  q: string;
  /** Who asks (null: open mode's anonymous caller, who sees public rooms only). */
  viewer: Viewer | null;
  limit: number;
  /** Only messages with an id below this (the last result of the page before). */
  before?: number | undefined;
  /** Most bytes of JSON the results may take as one array: the page then holds fewer. */
  maxBytes?: number | undefined;
}

/** One message found: as REST shows it, its room, and where its matched words are. */
export interface SearchHit {
  message: Message;
  /** `name` is null for a DM. */
  room: { id: number; name: string | null };
  /** [start, end) code-point offsets in `message.text` of each matched word, in order. */
  matches: Array<[number, number]>;
}

/** Newest first; `more`: older results follow (ask again with `before=` the last one's id). */
export interface SearchPage {
  results: SearchHit[];
  more: boolean;
}
