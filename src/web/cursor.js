// @ts-check
/**
 * How far a client has seen a room: every change up to `position` (a `seq`), the `since=` of its
 * next reconnect. The position is the `history` frame's `last_seq`, raised by the `seq` of each
 * live frame. When a `history` frame has `more` (messages left out) or `more_updates` (changes
 * left out), the rest is paged over REST (`after=`, then `changed_after=`) while live frames keep
 * coming, and the position passes them only once they are in. No DOM.
 */

/** @typedef {import('./protocol.js').Message} Message */
/** @typedef {import('../domain/message.ts').Tombstone} Tombstone */

/**
 * What a `history` frame left to page: messages after `after` up to id `lastId`, and (when
 * `changedAfter` is not null) changes after that seq up to `lastSeq`.
 * @typedef {{ after: number, lastId: number, changedAfter: number | null, lastSeq: number }} CatchUp
 */

/**
 * @typedef {object} CatchUpIo
 * @property {(query: string) => Promise<unknown>} fetchPage REST messages with this query
 * @property {(messages: Message[]) => void} onPage a page of newer messages
 * @property {(items: Array<Message | Tombstone>) => void} onUpdates a page of changed ones
 * @property {() => boolean} current false once the socket was replaced: stop quietly
 * @property {number} limit
 */

/**
 * Fetches pages of a room's REST messages (`url`, with a query), with the token if any; a page
 * that comes after its socket was replaced is empty.
 * @param {(url: string, init?: RequestInit) => Promise<Response>} fetch
 * @param {string} url
 * @param {string | undefined} token
 * @param {() => boolean} current
 * @returns {(query: string) => Promise<unknown>}
 */
export function restPages(fetch, url, token, current) {
  const init = token ? { headers: { authorization: `Bearer ${token}` } } : undefined;
  return async (query) => {
    const response = await fetch(`${url}?${query}`, init);
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    return current() ? /** @type {unknown} */ (await response.json()) : [];
  };
}

export class RoomCursor {
  #position = 0;
  /** The highest seq seen since the room was selected: live frames, and acks of ours. */
  #highest = 0;
  /** Older messages or changes are still being paged: live frames must not move the position. */
  #catchingUp = false;

  get position() {
    return this.#position;
  }

  /** Starts the room over: nothing seen. */
  reset() {
    this.#position = 0;
    this.#highest = 0;
    this.#catchingUp = false;
  }

  /** The socket is gone: a catch-up in flight is given up (the next join pages anew). */
  stop() {
    this.#catchingUp = false;
  }

  /**
   * A `history` frame. Returns what to page over REST, or null when it left nothing out.
   * @param {{ messages: Message[], last_id: number, last_seq?: number, more?: boolean,
   *   more_updates?: boolean, reset?: boolean }} frame
   * @returns {CatchUp | null}
   */
  history(frame) {
    // reset: the server lost what we had: start over from what it has now.
    if (frame.reset) this.reset();
    const since = this.#position;
    // A server from before seqs: its last id is its position.
    const lastSeq = frame.last_seq ?? frame.last_id;
    const newest = frame.messages.reduce((max, m) => Math.max(max, m.id), 0);
    this.#highest = Math.max(this.#highest, newest);
    const moreUpdates = frame.more_updates === true;
    this.#catchingUp = frame.more === true || moreUpdates;
    if (!this.#catchingUp) {
      this.#position = Math.max(this.#position, lastSeq);
      return null;
    }
    // The frame's messages are as they are now: up to the newest, only left-out updates are
    // missing, and a reconnect may go on from there unless some were.
    if (!moreUpdates) this.#position = Math.max(this.#position, newest);
    return {
      after: newest || since,
      lastId: frame.last_id,
      changedAfter: moreUpdates ? since : null,
      lastSeq,
    };
  }

  /** A live frame with a seq (message, edit, delete, reaction). @param {number} seq */
  live(seq) {
    this.#highest = Math.max(this.#highest, seq);
    if (!this.#catchingUp) this.#position = Math.max(this.#position, seq);
  }

  /** The ack of a message or change of ours. @param {number} seq */
  acked(seq) {
    this.#highest = Math.max(this.#highest, seq);
  }

  /**
   * Pages what a history frame left out: messages, then changes. Rejects when a page cannot be
   * fetched.
   * @param {CatchUp} plan
   * @param {CatchUpIo} io
   */
  async catchUp(plan, io) {
    let after = Math.max(plan.after, this.#position);
    while (after < plan.lastId) {
      const page = await io.fetchPage(`after=${after}&limit=${io.limit}`);
      if (!io.current()) return;
      if (!Array.isArray(page) || page.length === 0) break;
      const messages = /** @type {Message[]} */ (page);
      for (const m of messages) after = Math.max(after, m.id);
      this.#highest = Math.max(this.#highest, after);
      io.onPage(messages);
      if (plan.changedAfter === null) this.#position = Math.max(this.#position, after);
    }
    let changedAfter = plan.changedAfter;
    while (changedAfter !== null && changedAfter < plan.lastSeq) {
      const page = await io.fetchPage(`changed_after=${changedAfter}&limit=${io.limit}`);
      if (!io.current()) return;
      if (!Array.isArray(page) || page.length === 0) break;
      const items = /** @type {Array<Message | Tombstone>} */ (page);
      for (const item of items) changedAfter = Math.max(changedAfter, item.seq);
      io.onUpdates(items);
      if (page.length < io.limit) break;
    }
    this.#catchingUp = false;
    this.#position = Math.max(this.#position, plan.lastSeq, this.#highest);
  }
}
