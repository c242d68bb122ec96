/**
 * What a history query asks and answers: pages of a room's messages and a joining client's
 * replay. Plain data, the same in-process and over NATS.
 */
import type { Message } from './message.ts';

export interface ReplayRequest {
  serverId: number;
  /** The client's last seen id; undefined for a fresh join. */
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
  messages: Message[];
  /**
   * The room's newest id when the replay was read. Every message with an id up to it that the
   * replay leaves out is older than the replay (or, with `more`, pageable through REST).
   */
  lastId: number;
  more: boolean;
  /** `since` was past the room's newest id: the answer is a fresh join's. */
  reset: boolean;
}

export interface MessagePage {
  serverId: number;
  limit: number;
  before?: number | undefined;
  after?: number | undefined;
  /** Most bytes of JSON the page may take as one array: it then holds fewer than `limit`. */
  maxBytes?: number | undefined;
}
