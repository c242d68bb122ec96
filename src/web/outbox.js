// @ts-check
/**
 * Our messages the server has not acknowledged yet, per room, in the order they were written.
 * Each keeps its `client_id` for life: resent after every reconnect until its `ack` comes, it
 * never makes a second message (the server makes such resends idempotent). No DOM.
 */

/**
 * `waiting` for a connection, `sending` (written to the socket), `retrying` after `unavailable`
 * or `rate_limited`, then `sent` (acknowledged: durable, `id` set) or `failed` (refused for good,
 * `error` says why). The last two leave the outbox.
 * @typedef {'waiting' | 'sending' | 'retrying' | 'sent' | 'failed'} PendingState
 */
/**
 * @typedef {object} PendingMessage
 * @property {string} clientId the `client_id` it is sent (and resent) with
 * @property {number} roomId
 * @property {string} username the name it was written under
 * @property {string} text
 * @property {number} [replyTo] the message it answers
 * @property {string[]} [attachments] the ids of the uploads it carries
 * @property {PendingState} state
 * @property {number} id the message's id once `sent`, else 0
 * @property {string} error why it `failed`, else ''
 */

/** A random id of 32 hex digits (or a UUID): unique enough to tell our messages apart. */
export function newClientId() {
  // randomUUID exists only in secure contexts (https, localhost); getRandomValues everywhere.
  if (typeof globalThis.crypto.randomUUID === 'function') return globalThis.crypto.randomUUID();
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * The `message` frame of one of ours, as sent and resent.
 * @param {PendingMessage} pending
 * @returns {import('./protocol.js').ClientFrame}
 */
export function messageFrame(pending) {
  const { text, clientId, replyTo, attachments } = pending;
  return {
    type: 'message',
    text,
    client_id: clientId,
    ...(replyTo === undefined ? {} : { reply_to: replyTo }),
    ...(attachments === undefined ? {} : { attachments }),
  };
}

/**
 * One of our messages once acknowledged; rejects (with the refusal's words) when it failed.
 * @param {{ on: (type: 'pending', listener: (p: PendingMessage) => void) => () => void }} conn
 * @param {PendingMessage} pending
 * @returns {Promise<PendingMessage>}
 */
export function whenSent(conn, pending) {
  return new Promise((resolve, reject) => {
    const settle = (/** @type {PendingMessage} */ p) => {
      if (p.state === 'sent') resolve(p);
      else if (p.state === 'failed') reject(new Error(p.error));
      else return false;
      return true;
    };
    if (settle(pending)) return;
    const stop = conn.on('pending', (p) => {
      if (p.clientId === pending.clientId && settle(p)) stop();
    });
  });
}

/**
 * @typedef {object} OutboxOptions
 * @property {(pending: PendingMessage) => void} transmit writes a message to the socket, if open
 * @property {(pending: PendingMessage) => void} changed told of every change of state
 * @property {number} retryMs the resend delay after `unavailable` or `rate_limited`
 */

export class Outbox {
  /** @type {Map<number, Map<string, PendingMessage>>} room id -> client_id -> message */
  #byRoom = new Map();
  /** @type {Map<string, ReturnType<typeof setTimeout>>} client_id -> its resend */
  #retries = new Map();
  #options;

  /** @param {OutboxOptions} options */
  constructor(options) {
    this.#options = options;
  }

  /**
   * Takes a new message and writes it (when the socket is open).
   * @param {number} roomId
   * @param {string} username
   * @param {string} text
   * @param {PendingState} state `sending` when connected, else `waiting`
   * @param {{ replyTo?: number, attachments?: string[] }} [options]
   * @returns {PendingMessage}
   */
  add(roomId, username, text, state, options = {}) {
    /** @type {PendingMessage} */
    const pending = { clientId: newClientId(), roomId, username, text, state, id: 0, error: '' };
    if (options.replyTo !== undefined) pending.replyTo = options.replyTo;
    if (options.attachments?.length) pending.attachments = [...options.attachments];
    let room = this.#byRoom.get(roomId);
    if (!room) {
      room = new Map();
      this.#byRoom.set(roomId, room);
    }
    room.set(pending.clientId, pending);
    this.#options.changed(pending);
    this.#options.transmit(pending);
    return pending;
  }

  /** The room's unacknowledged messages, oldest first. @param {number} roomId */
  list(roomId) {
    return [...(this.#byRoom.get(roomId)?.values() ?? [])];
  }

  /** After a (re)join: writes every message of the room again. @param {number} roomId */
  resend(roomId) {
    for (const pending of this.list(roomId)) {
      pending.state = 'sending';
      this.#options.changed(pending);
      this.#options.transmit(pending);
    }
  }

  /**
   * An `ack`: our message with this client_id is durable. Returns it, or undefined when the ack
   * is not about one of ours.
   * @param {number} roomId
   * @param {{ client_id: string | null, id: number }} ack
   */
  acknowledge(roomId, ack) {
    const pending = ack.client_id === null ? undefined : this.#get(roomId, ack.client_id);
    if (!pending) return undefined;
    this.#settle(pending);
    pending.state = 'sent';
    pending.id = ack.id;
    this.#options.changed(pending);
    return pending;
  }

  /**
   * An `error` frame: when it is about one of our messages, that one is resent a little later
   * (`unavailable`, `rate_limited`: not confirmed) or given up (any other code). Returns it.
   * @param {number} roomId
   * @param {{ code: string, message: string, client_id?: string }} error
   */
  refuse(roomId, error) {
    const pending = error.client_id ? this.#get(roomId, error.client_id) : undefined;
    if (!pending) return undefined;
    if (error.code === 'unavailable' || error.code === 'rate_limited') {
      // The same client_id again: the server makes the resend idempotent.
      pending.state = 'retrying';
      clearTimeout(this.#retries.get(pending.clientId));
      const retry = setTimeout(() => {
        this.#retries.delete(pending.clientId);
        this.#options.transmit(pending);
      }, this.#options.retryMs);
      this.#retries.set(pending.clientId, retry);
    } else {
      this.#settle(pending);
      pending.state = 'failed';
      pending.error = error.message;
    }
    this.#options.changed(pending);
    return pending;
  }

  /** @param {number} roomId @param {string} clientId */
  #get(roomId, clientId) {
    return this.#byRoom.get(roomId)?.get(clientId);
  }

  /** Takes a message out, with its resend. @param {PendingMessage} pending */
  #settle(pending) {
    this.#byRoom.get(pending.roomId)?.delete(pending.clientId);
    clearTimeout(this.#retries.get(pending.clientId));
    this.#retries.delete(pending.clientId);
  }
}
