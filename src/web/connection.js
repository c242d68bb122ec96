// @ts-check
/**
 * The chat connection: one WebSocket to one room at a time, kept alive. No DOM code: the page
 * runs it with the browser's WebSocket, bots and tests under Node with the `ws` package's.
 *
 * - Reconnects by itself with exponential backoff and jitter (0.5 s doubling to 10 s) after any
 *   close but `4404` (no such room), `4400` (name refused), `4401` (credentials missing, wrong
 *   or ended) and `4403` (no longer allowed), and when a ping goes unanswered.
 * - Outside open mode a browser's session cookie goes with the socket by itself; a program
 *   passes `token` (sent as `?access_token=` and as `Authorization: Bearer` on REST).
 * - Continues where it was: it reconnects with `since=` its position (the `seq` up to which it
 *   has seen every change, see cursor.js), and pages over REST what a `history` frame left out.
 * - Holds the room's messages (messages.js) and merges replays, `updates` and live `edit`,
 *   `delete` and `reaction` frames by their `seq`; events carry the merged messages.
 * - Sends each message with a `client_id` and keeps it (see outbox.js) until its `ack`; resends
 *   it after each reconnect and after `unavailable` or `rate_limited`, never making a duplicate.
 *   Edits, deletes and reactions likewise (changes.js), each with a promise of its ack.
 * - Tells what happens through events (`on(type, listener)`, see ConnectionEvents).
 */
import { PendingChanges } from './changes.js';
import { RoomCursor, restPages } from './cursor.js';
import { Emitter } from './emitter.js';
import { RoomFeed } from './feed.js';
import { Outbox, messageFrame } from './outbox.js';
import { FINAL_CLOSES } from './protocol.js';
import { openSocket } from './socket.js';

/** @typedef {import('./protocol.js').ClientFrame} ClientFrame */
/** @typedef {import('./socket.js').SocketConstructor} SocketConstructor */
/** @typedef {import('./outbox.js').PendingMessage} PendingMessage */
/**
 * @template {import('./protocol.js').ServerFrame['type']} T
 * @typedef {import('./protocol.js').FrameOf<T>} FrameOf
 */

/** @typedef {import('./connection-types.js').ConnectionState} ConnectionState */
/** @typedef {import('./connection-types.js').ConnectionEvents} ConnectionEvents */
/** @typedef {import('./connection-types.js').ConnectionOptions} ConnectionOptions */

/** @extends {Emitter<ConnectionEvents>} */
export class ChatConnection extends Emitter {
  #http;
  #ws;
  /** @type {SocketConstructor} */
  #WebSocket;
  /** @type {(url: string, init?: RequestInit) => Promise<Response>} */
  #fetch;
  /** @type {string | undefined} */
  #token;
  #timing;
  #outbox;
  #changes;
  #messages = new RoomFeed({
    update: (message) => this.emit('update', message),
    delete: (id) => this.emit('delete', { id }),
  });

  /** @type {number | null} */
  #roomId = null;
  #username = '';
  /** @type {ConnectionState} */
  #state = 'idle';
  /** @type {import('./socket.js').WatchedSocket | null} */
  #socket = null;
  /** Bumped whenever a socket is opened or dropped: a catch-up of an older one stops. */
  #generation = 0;
  #attempt = 0;
  #cursor = new RoomCursor();
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  #reconnectTimer;
  #lastTypingSent = 0;

  /** @param {ConnectionOptions} options */
  constructor(options) {
    super();
    const url = new URL(options.url);
    const secure = url.protocol === 'https:' || url.protocol === 'wss:';
    url.protocol = secure ? 'https:' : 'http:';
    this.#http = url.href.replace(/\/$/, '');
    this.#ws = this.#http.replace(/^http/, 'ws');
    const WebSocket = options.WebSocket ?? globalThis.WebSocket;
    if (!WebSocket) throw new Error('no WebSocket here: pass one, e.g. the "ws" package\'s');
    this.#WebSocket = WebSocket;
    // A call through the global, not a detached reference: browsers refuse a fetch without it.
    this.#fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.#token = options.token;
    this.#timing = {
      backoffMinMs: options.backoffMinMs ?? 500,
      backoffMaxMs: options.backoffMaxMs ?? 10_000,
      pingMs: options.pingMs ?? 25_000,
      typingEveryMs: options.typingEveryMs ?? 2000,
      pageLimit: options.pageLimit ?? 1000,
    };
    this.#outbox = new Outbox({
      retryMs: options.retryMs ?? 1000,
      transmit: (pending) => this.#transmit(pending),
      changed: (pending) => this.emit('pending', pending),
    });
    this.#changes = new PendingChanges({
      retryMs: options.retryMs ?? 1000,
      transmit: (frame, roomId) =>
        this.#state === 'connected' && roomId === this.#roomId && this.#sendFrame(frame),
    });
  }

  /** @returns {ConnectionState} */
  get state() {
    return this.#state;
  }

  /** The room joined or to join; null before the first. */
  get roomId() {
    return this.#roomId;
  }

  /** The name of the last `connect` ('' before it). */
  get username() {
    return this.#username;
  }

  /** Every change of the room up to this `seq` has been delivered (as events) since the join. */
  get position() {
    return this.#cursor.position;
  }

  /** A message of the current room as it is now, if held. @param {number} id */
  message(id) {
    return this.#messages.get(id);
  }

  /**
   * Messages of the current room read over REST (older ones, to show one of them): merged with
   * what is held, then told as a `page` event. @param {import('./protocol.js').Message[]} list
   */
  showPage(list) {
    this.emit('page', { messages: this.#messages.merge(list) });
  }

  /**
   * Our unacknowledged messages of a room (default: the current one), oldest first.
   * @param {number | null} [roomId]
   * @returns {PendingMessage[]}
   */
  pendingIn(roomId = this.#roomId) {
    return roomId === null ? [] : this.#outbox.list(roomId);
  }

  /** Joins a room: `selectRoom`, `connect`. @param {number} roomId @param {string} username */
  join(roomId, username) {
    this.selectRoom(roomId);
    this.connect(username);
  }

  /**
   * Leaves the current room (if any) and makes `roomId` the one `connect` joins, from its newest
   * messages: what was seen of a room before does not count. Our unacknowledged messages of
   * every room stay, and are resent when their room is joined again.
   * @param {number} roomId
   */
  selectRoom(roomId) {
    this.#drop();
    this.#roomId = roomId;
    this.#cursor.reset();
    this.#messages.reset();
    this.#attempt = 0;
    this.emit('room', { roomId });
    this.#setState('idle');
  }

  /**
   * Opens (or reopens, e.g. under a new name) the socket of the selected room, continuing after
   * the last message seen in it.
   * @param {string} username
   */
  connect(username) {
    this.#requireRoom();
    this.#username = username;
    this.#attempt = 0;
    this.#open();
  }

  /** Closes the socket and stops reconnecting; `connect` continues where it was. */
  leave() {
    this.#drop();
    this.#setState('idle');
  }

  /** While waiting to reconnect (e.g. the network is back): reconnects now, backoff reset. */
  retryNow() {
    if (this.#state !== 'reconnecting') return;
    this.#attempt = 0;
    this.#open();
  }

  /**
   * Sends a message to the current room, now or as soon as the connection is back, until the
   * server acknowledges it (`pending` events follow it; outbox.js `whenSent` awaits it).
   * @param {string} text
   * @param {{ replyTo?: number, attachments?: string[] }} [options] `replyTo`: the message it
   *   answers (else `bad_reply`); `attachments`: ids of our uploads to the room (`uploadFile`)
   * @returns {PendingMessage}
   */
  send(text, options = {}) {
    const roomId = this.#requireRoom();
    const state = this.#state === 'connected' ? 'sending' : 'waiting';
    this.#lastTypingSent = 0;
    return this.#outbox.add(roomId, this.#username, text, state, options);
  }

  // Each change's promise: its ack ({ id, seq }), or a ChangeRefused (changes.js) with the code.
  /** New text for one of our messages. @param {number} id @param {string} text */
  edit(id, text) {
    return this.#changes.add(this.#requireRoom(), { type: 'edit', id, text });
  }

  /** Deletes a message (ours; any, for admins and a private room's owner). @param {number} id */
  deleteMessage(id) {
    return this.#changes.add(this.#requireRoom(), { type: 'delete', id });
  }

  /** Sets (`on`) or removes our `emoji` reaction. @param {number} id @param {string} emoji @param {boolean} on */
  react(id, emoji, on) {
    return this.#changes.add(this.#requireRoom(), { type: 'react', id, emoji, on });
  }

  /** Says the current room is read up to message `id` (the server keeps the furthest). @param {number} id */
  read(id) {
    return this.#state === 'connected' && this.#sendFrame({ type: 'read', id });
  }

  #requireRoom() {
    if (this.#roomId === null) throw new Error('no room selected: use join(roomId, username)');
    return this.#roomId;
  }

  /** Says "typing" to the room, at most once per `typingEveryMs`. @returns {boolean} sent */
  typing() {
    const now = Date.now();
    if (this.#state !== 'connected' || now - this.#lastTypingSent < this.#timing.typingEveryMs) {
      return false;
    }
    this.#lastTypingSent = now;
    return this.#sendFrame({ type: 'typing' });
  }

  /** @param {ConnectionState} state */
  #setState(state) {
    this.#state = state;
    this.emit('state', { state, attempt: this.#attempt });
  }

  /** @param {ClientFrame} frame */
  #sendFrame(frame) {
    return this.#socket?.send(frame) ?? false;
  }

  /** @param {PendingMessage} pending */
  #transmit(pending) {
    if (this.#state !== 'connected' || pending.roomId !== this.#roomId) return;
    this.#sendFrame(messageFrame(pending));
  }

  /** Forgets the current socket (its events are ignored from now on) and closes it. */
  #drop() {
    this.#generation++;
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = undefined;
    this.#cursor.stop();
    this.#socket?.close();
    this.#socket = null;
  }

  #scheduleReconnect() {
    clearTimeout(this.#reconnectTimer);
    const { backoffMinMs, backoffMaxMs } = this.#timing;
    const base = Math.min(backoffMaxMs, backoffMinMs * 2 ** this.#attempt);
    const delay = base / 2 + Math.random() * (base / 2);
    this.#attempt++;
    this.#reconnectTimer = setTimeout(() => this.#open(), delay);
    this.#setState('reconnecting');
  }

  #open() {
    this.#drop();
    const roomId = this.#roomId;
    if (roomId === null) return;
    const gen = this.#generation;
    const params = new URLSearchParams({ username: this.#username });
    if (this.#token) params.set('access_token', this.#token);
    if (this.#cursor.position > 0) params.set('since', String(this.#cursor.position));
    this.#socket = openSocket(this.#WebSocket, `${this.#ws}/ws/${roomId}?${params}`, {
      pingMs: this.#timing.pingMs,
      onFrame: (frame) => this.#onFrame(frame, gen),
      onGone: (close) => this.#onGone(close),
    });
    this.#setState('connecting');
  }

  /** @param {{ code: number, reason: string } | null} close null: pings went unanswered */
  #onGone(close) {
    this.#drop();
    // 1001 going away, 1013 try again later, 4408 too slow, 1006 network: back with since.
    const reconnecting = close === null || !FINAL_CLOSES.has(close.code);
    if (reconnecting) this.#scheduleReconnect();
    else this.#setState('closed');
    if (close) this.emit('close', { ...close, reconnecting });
  }

  /** @param {import('./protocol.js').ServerFrame} frame @param {number} gen */
  #onFrame(frame, gen) {
    switch (frame.type) {
      case 'history':
        this.#onHistory(frame, gen);
        return;
      case 'message': {
        const message = this.#messages.message(frame);
        if (message) this.emit('message', message);
        this.#cursor.live(frame.seq ?? frame.id);
        return;
      }
      case 'edit':
      case 'delete':
      case 'reaction':
        this.#messages.change(frame);
        this.#cursor.live(frame.seq);
        return;
      case 'ack':
        this.#onAck(frame);
        return;
      case 'error':
        this.#onError(frame);
        return;
      default:
        // presence, presence_diff, typing, join, leave, unread, mention: passed on as they are
        // (`never`: the checker cannot pair each type with its frame here)
        if (frame.type !== 'pong') this.emit(frame.type, /** @type {never} */ (frame));
    }
  }

  /** @param {FrameOf<'history'>} frame @param {number} gen */
  #onHistory(frame, gen) {
    const reset = frame.reset === true;
    if (reset) this.#messages.reset();
    const messages = this.#messages.merge(frame.messages);
    this.emit('history', { messages, reset, more: frame.more === true });
    this.#messages.updates(frame.updates ?? []);
    const plan = this.#cursor.history(frame);
    this.#attempt = 0;
    if (plan) void this.#catchUp(gen, plan);
    this.#setState('connected');
    if (this.#roomId === null) return;
    this.#outbox.resend(this.#roomId);
    this.#changes.resend(this.#roomId);
  }

  /** Pages over REST what a `history` frame left out. */
  async #catchUp(/** @type {number} */ gen, /** @type {import('./cursor.js').CatchUp} */ plan) {
    const current = () => gen === this.#generation;
    const url = `${this.#http}/api/servers/${this.#roomId}/messages`;
    const fetchPage = restPages(this.#fetch, url, this.#token, current);
    try {
      await this.#cursor.catchUp(plan, {
        fetchPage,
        onPage: (page) => this.emit('page', { messages: this.#messages.merge(page) }),
        onUpdates: (items) => this.#messages.updates(items),
        current,
        limit: this.#timing.pageLimit,
      });
    } catch {
      if (!current()) return;
      // Reconnect from where the room is complete; the server sends the rest.
      this.#drop();
      this.#scheduleReconnect();
    }
  }

  /** @param {FrameOf<'ack'>} ack */
  #onAck(ack) {
    if (this.#roomId === null) return;
    const seq = ack.seq ?? ack.id;
    if (this.#outbox.acknowledge(this.#roomId, ack) || this.#changes.acknowledge(ack)) {
      this.#cursor.acked(seq);
    }
  }

  /** @param {FrameOf<'error'>} error */
  #onError(error) {
    const pending = this.#roomId === null ? undefined : this.#outbox.refuse(this.#roomId, error);
    const change = pending === undefined && this.#changes.refuse(error);
    this.emit('error', { ...error, pending, change });
  }
}
