// @ts-check
/**
 * Our edits, deletes and reactions the server has not acknowledged yet. Like messages in the
 * outbox, each keeps its `client_id` and is written again after every reconnect and after
 * `unavailable` or `rate_limited` until its `ack` (the server makes resends idempotent); its
 * promise settles with the ack, or with the refusal (`ChangeRefused`). No DOM.
 */
import { newClientId } from './outbox.js';

/** @typedef {import('./protocol.js').ClientFrame} ClientFrame */
/** @typedef {Extract<ClientFrame, { type: 'edit' | 'delete' | 'react' }>} ChangeFrame */
/** @typedef {{ id: number, seq: number }} ChangeAck what the ack says: the message, the change's seq */

/** The server refused a change: `code` is the contract's (`forbidden`, `edit_window`…). */
export class ChangeRefused extends Error {
  /** @param {string} code @param {string} message */
  constructor(code, message) {
    super(message);
    this.name = 'ChangeRefused';
    this.code = code;
  }
}

/**
 * @typedef {object} PendingChange
 * @property {number} roomId
 * @property {ChangeFrame} frame with its `client_id`
 * @property {(ack: ChangeAck) => void} resolve
 * @property {(error: ChangeRefused) => void} reject
 */

/**
 * @typedef {object} ChangesOptions
 * @property {(frame: ChangeFrame, roomId: number) => void} transmit writes it, if the socket is open
 * @property {number} retryMs the resend delay after `unavailable` or `rate_limited`
 */

export class PendingChanges {
  /** @type {Map<string, PendingChange>} client_id -> change */
  #pending = new Map();
  /** @type {Map<string, ReturnType<typeof setTimeout>>} */
  #retries = new Map();
  #options;

  /** @param {ChangesOptions} options */
  constructor(options) {
    this.#options = options;
  }

  /**
   * Takes a change (without `client_id`) and writes it.
   * @param {number} roomId
   * @param {DistributiveOmit<ChangeFrame, 'client_id'>} change
   * @returns {Promise<ChangeAck>}
   */
  add(roomId, change) {
    const frame = /** @type {ChangeFrame} */ ({ ...change, client_id: newClientId() });
    return new Promise((resolve, reject) => {
      this.#pending.set(/** @type {string} */ (frame.client_id), {
        roomId,
        frame,
        resolve,
        reject,
      });
      this.#options.transmit(frame, roomId);
    });
  }

  /** After a (re)join: writes the room's changes again. @param {number} roomId */
  resend(roomId) {
    for (const change of this.#pending.values()) {
      if (change.roomId === roomId) this.#options.transmit(change.frame, roomId);
    }
  }

  /**
   * An `ack`: true when it was about one of our changes.
   * @param {{ client_id: string | null, id: number, seq: number }} ack
   */
  acknowledge(ack) {
    const change = ack.client_id === null ? undefined : this.#settle(ack.client_id);
    change?.resolve({ id: ack.id, seq: ack.seq });
    return change !== undefined;
  }

  /**
   * An `error` frame: true when it was about one of our changes, which is then resent a little
   * later (`unavailable`, `rate_limited`) or refused for good.
   * @param {{ code: string, message: string, client_id?: string }} error
   */
  refuse(error) {
    const clientId = error.client_id;
    const change = clientId ? this.#pending.get(clientId) : undefined;
    if (!clientId || !change) return false;
    if (error.code === 'unavailable' || error.code === 'rate_limited') {
      clearTimeout(this.#retries.get(clientId));
      const retry = setTimeout(() => {
        this.#retries.delete(clientId);
        this.#options.transmit(change.frame, change.roomId);
      }, this.#options.retryMs);
      this.#retries.set(clientId, retry);
      return true;
    }
    this.#settle(clientId);
    change.reject(new ChangeRefused(error.code, error.message));
    return true;
  }

  /** @param {string} clientId */
  #settle(clientId) {
    const change = this.#pending.get(clientId);
    this.#pending.delete(clientId);
    clearTimeout(this.#retries.get(clientId));
    this.#retries.delete(clientId);
    return change;
  }
}

/**
 * `Omit` for each member of a union.
 * @template T
 * @template {PropertyKey} K
 * @typedef {T extends unknown ? Omit<T, K> : never} DistributiveOmit
 */
