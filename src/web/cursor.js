// @ts-check
/**
 * How far a client has seen a room: every message up to `position`, the `since=` of its next
 * reconnect. When a `history` frame has `more`, the messages it left out are paged over REST
 * (`after=`) while live ones keep coming, and the position passes them only once they are in.
 * No DOM.
 */

/** @typedef {import('./protocol.js').Message} Message */

export class RoomCursor {
  #position = 0;
  /** The highest id seen since the room was selected: messages, and acks of ours. */
  #highest = 0;
  /** Older messages are still being paged: live ones must not move the position. */
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
   * A `history` frame. Returns the id to page up to over REST, or 0 when it left nothing out.
   * @param {{ messages: Message[], last_id: number, more?: boolean, reset?: boolean }} frame
   */
  history(frame) {
    // reset: the server lost what we had: start over from what it has now.
    if (frame.reset) this.reset();
    const newest = frame.messages.reduce((max, m) => Math.max(max, m.id), 0);
    this.#highest = Math.max(this.#highest, newest);
    this.#catchingUp = frame.more === true;
    if (frame.more) {
      this.#position = Math.max(this.#position, newest);
      return frame.last_id;
    }
    this.#position = Math.max(this.#position, newest, frame.last_id);
    return 0;
  }

  /** A live message. @param {number} id */
  live(id) {
    this.#highest = Math.max(this.#highest, id);
    if (!this.#catchingUp) this.#position = Math.max(this.#position, id);
  }

  /** The ack of a message of ours. @param {number} id */
  acked(id) {
    this.#highest = Math.max(this.#highest, id);
  }

  /**
   * Pages the messages after the position up to `lastId`: each page goes to `onPage`, then the
   * position passes it. Stops quietly once `current()` is false (its socket was replaced);
   * rejects when a page cannot be fetched.
   * @param {number} lastId
   * @param {(after: number) => Promise<unknown>} fetchPage the messages after an id, oldest first
   * @param {(messages: Message[]) => void} onPage
   * @param {() => boolean} current
   */
  async catchUp(lastId, fetchPage, onPage, current) {
    let after = this.#position;
    while (after < lastId) {
      const page = await fetchPage(after);
      if (!current()) return;
      if (!Array.isArray(page) || page.length === 0) break;
      const messages = /** @type {Message[]} */ (page);
      for (const m of messages) after = Math.max(after, m.id);
      this.#highest = Math.max(this.#highest, after);
      onPage(messages);
      this.#position = after;
    }
    this.#catchingUp = false;
    this.#position = Math.max(this.#position, lastId, this.#highest);
  }
}
