// @ts-check
/**
 * Between the socket and the connection's events: every message and change goes through the
 * room's merged state (messages.js), and what changed comes out as the messages to show now
 * (`update`) or the ids gone (`delete`). No DOM.
 */
import { RoomMessages } from './messages.js';

/** @typedef {import('./protocol.js').Message} Message */
/** @typedef {import('../domain/message.ts').Tombstone} Tombstone */
/** @typedef {import('./messages.js').Effect} Effect */
/** @typedef {import('./messages.js').ChangeFrame} ChangeFrame */

/**
 * @typedef {object} FeedOutput
 * @property {(message: Message) => void} update a message shown may have changed
 * @property {(id: number) => void} delete a message is gone
 */

export class RoomFeed {
  #messages = new RoomMessages();
  #out;

  /** @param {FeedOutput} out */
  constructor(out) {
    this.#out = out;
  }

  reset() {
    this.#messages.reset();
  }

  /** @param {number} id */
  get(id) {
    return this.#messages.get(id);
  }

  /**
   * Snapshots of messages (replay, REST page): returns them as held now, a stale or deleted copy
   * left out; the quotes they changed in other messages go out as updates.
   * @param {Message[]} list
   */
  merge(list) {
    const ids = new Set(list.map((m) => m.id));
    const effects = list.flatMap((m) => this.#messages.snapshot(m));
    this.#emit(effects.filter((e) => e.type !== 'put' || !ids.has(e.message.id)));
    return list.flatMap((m) => this.#messages.get(m.id) ?? []);
  }

  /** A live message: as held now (undefined when already deleted). @param {Message} frame */
  message(frame) {
    return this.merge([frame])[0];
  }

  /** `updates` of a history frame or a `changed_after=` page. @param {Array<Message | Tombstone>} items */
  updates(items) {
    this.#emit(items.flatMap((item) => this.#messages.snapshot(item)));
  }

  /** A live `edit`, `delete` or `reaction` frame. @param {ChangeFrame} frame */
  change(frame) {
    this.#emit(this.#messages.change(frame));
  }

  /** @param {Effect[]} effects */
  #emit(effects) {
    for (const effect of effects) {
      if (effect.type === 'put') this.#out.update(effect.message);
      else this.#out.delete(effect.id);
    }
  }
}
