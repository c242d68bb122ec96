// @ts-check
/**
 * The messages of one room as the client knows them, merged from replays, REST pages, `updates`
 * and live `message`, `edit`, `delete` and `reaction` frames in whatever order they come: a
 * message or change is applied only when its `seq` is above the one held for that message (the
 * contract's merge rule), so every order ends in the same state. No DOM.
 *
 * A change to a message not held yet (its page still on its way) is kept and applied when the
 * message comes; a deleted message's id stays known, so a late copy of it is not shown again.
 * Quotes follow their originals: a reply's quote is made from the original when it is held, and
 * goes when the original is deleted.
 */

/** @typedef {import('./protocol.js').Message} Message */
/** @typedef {import('../domain/message.ts').Tombstone} Tombstone */
/** @typedef {import('./protocol.js').FrameOf<'edit'>} EditFrame */
/** @typedef {import('./protocol.js').FrameOf<'delete'>} DeleteFrame */
/** @typedef {import('./protocol.js').FrameOf<'reaction'>} ReactionFrame */
/** @typedef {EditFrame | DeleteFrame | ReactionFrame} ChangeFrame */

/**
 * What applying something did: a message is now as `message` says (new or changed), or the
 * message `id` is gone.
 * @typedef {{ type: 'put', message: Message } | { type: 'gone', id: number }} Effect
 */

/** The longest quote, in code points (as the server makes them). */
const QUOTE_CHARS = 200;
/** Changes kept for messages not held yet; beyond this the oldest go. */
const MAX_EARLY = 1000;

/** @param {string} text */
function quoteText(text) {
  const points = [...text];
  return points.length <= QUOTE_CHARS ? text : points.slice(0, QUOTE_CHARS).join('');
}

export class RoomMessages {
  /** @type {Map<number, Message>} */
  #held = new Map();
  /** @type {Map<number, number>} deleted message id -> the delete's seq */
  #gone = new Map();
  /** @type {Map<number, ChangeFrame[]>} message id -> changes that came before it */
  #early = new Map();

  /** Forgets the room (another room, or the server lost what this client had). */
  reset() {
    this.#held.clear();
    this.#gone.clear();
    this.#early.clear();
  }

  /** @param {number} id @returns {Message | undefined} */
  get(id) {
    return this.#held.get(id);
  }

  /** Every message held, in id order. */
  all() {
    return [...this.#held.values()].sort((a, b) => a.id - b.id);
  }

  /** Whether this message was deleted. @param {number} id */
  deleted(id) {
    return this.#gone.has(id);
  }

  /**
   * A message as the server shows it at some moment (replay, REST page, `updates`, a live
   * `message` frame), or a tombstone.
   * @param {Message | Tombstone} item
   * @returns {Effect[]}
   */
  snapshot(item) {
    if ('deleted' in item && item.deleted) return this.#delete(item.id, item.seq);
    const m = /** @type {Message} */ (item);
    if (this.#gone.has(m.id)) return [];
    const held = this.#held.get(m.id);
    if (held && held.seq >= m.seq) return [];
    const message = { ...m };
    const early = this.#early.get(m.id) ?? [];
    this.#early.delete(m.id);
    this.#held.set(m.id, this.#quoted(message));
    for (const change of early) {
      if (change.type === 'delete') return this.#delete(change.id, change.seq);
      this.#change(message, change);
    }
    return [{ type: 'put', message }, ...this.#requote(m.id)];
  }

  /** A live `edit`, `delete` or `reaction` frame. @param {ChangeFrame} change @returns {Effect[]} */
  change(change) {
    if (this.#gone.has(change.id)) return [];
    if (change.type === 'delete') return this.#delete(change.id, change.seq);
    const held = this.#held.get(change.id);
    if (!held) {
      this.#keepEarly(change);
      return [];
    }
    if (!this.#change(held, change)) return [];
    return [{ type: 'put', message: held }, ...this.#requote(held.id)];
  }

  /** @param {number} id @param {number} seq @returns {Effect[]} */
  #delete(id, seq) {
    const held = this.#held.get(id);
    if (held && held.seq >= seq) return [];
    this.#gone.set(id, Math.max(seq, this.#gone.get(id) ?? 0));
    this.#early.delete(id);
    if (!held) return [];
    this.#held.delete(id);
    return [{ type: 'gone', id }, ...this.#requote(id)];
  }

  /**
   * Applies an edit or reaction to a held message when it is newer. @returns {boolean} applied
   * @param {Message} message @param {EditFrame | ReactionFrame} change
   */
  #change(message, change) {
    if (change.seq <= message.seq) return false;
    message.seq = change.seq;
    if (change.type === 'edit') {
      message.text = change.text;
      message.edited_at = change.edited_at;
      return true;
    }
    const reactions = (message.reactions ?? []).map((r) => ({ ...r, users: [...r.users] }));
    let entry = reactions.find((r) => r.emoji === change.emoji);
    if (!entry) {
      entry = { emoji: change.emoji, count: 0, users: [] };
      reactions.push(entry);
    }
    entry.users = entry.users.filter((user) => user !== change.username);
    if (change.on) entry.users.push(change.username);
    entry.count = change.count;
    const left = reactions.filter((r) => r.count > 0);
    if (left.length > 0) message.reactions = left;
    else delete message.reactions;
    return true;
  }

  /** @param {ChangeFrame} change */
  #keepEarly(change) {
    const list = this.#early.get(change.id) ?? [];
    list.push(change);
    list.sort((a, b) => a.seq - b.seq);
    this.#early.delete(change.id);
    this.#early.set(change.id, list);
    if (this.#early.size > MAX_EARLY) {
      const oldest = this.#early.keys().next().value;
      if (oldest !== undefined) this.#early.delete(oldest);
    }
  }

  /** A reply's quote made from its original when held; none once the original is deleted. */
  #quoted(/** @type {Message} */ message) {
    const to = message.reply_to;
    if (to === undefined) return message;
    const original = this.#held.get(to);
    if (this.#gone.has(to)) delete message.quote;
    else if (original)
      message.quote = { username: original.username, text: quoteText(original.text) };
    return message;
  }

  /** The replies whose quote changed with message `id`. @param {number} id @returns {Effect[]} */
  #requote(id) {
    /** @type {Effect[]} */
    const effects = [];
    for (const reply of this.#held.values()) {
      if (reply.reply_to !== id) continue;
      const before = JSON.stringify(reply.quote);
      this.#quoted(reply);
      if (JSON.stringify(reply.quote) !== before) effects.push({ type: 'put', message: reply });
    }
    return effects;
  }
}
