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
 * - Continues where it was: it reconnects with `since=` the last message id up to which it has
 *   seen every message, and pages over REST what a `history` frame with `more` left out.
 * - Sends each message with a `client_id` and keeps it (see outbox.js) until its `ack`; resends
 *   it after each reconnect and after `unavailable` or `rate_limited`, never making a duplicate.
 * - Tells what happens through events (`on(type, listener)`, see ConnectionEvents).
 */
import { RoomCursor } from './cursor.js';
import { Emitter } from './emitter.js';
import { Outbox } from './outbox.js';
import { CLOSE } from './protocol.js';
import { openSocket } from './socket.js';

/** @typedef {import('./protocol.js').Message} Message */
/** @typedef {import('./protocol.js').ClientFrame} ClientFrame */
/** @typedef {import('./socket.js').SocketConstructor} SocketConstructor */
/** @typedef {import('./outbox.js').PendingMessage} PendingMessage */
/**
 * @template {import('./protocol.js').ServerFrame['type']} T
 * @typedef {import('./protocol.js').FrameOf<T>} FrameOf
 */

/**
 * `idle`: not joined (before `connect`, after `leave`); `connecting`: a socket is opening, or open
 * before its `history` frame; `connected`: joined, live; `reconnecting`: waiting for the next
 * attempt; `closed`: the server refused the room, the name or the credentials, no retry until
 * `connect`.
 * @typedef {'idle' | 'connecting' | 'connected' | 'reconnecting' | 'closed'} ConnectionState
 */

/**
 * The value each event's listeners get.
 * @typedef {object} ConnectionEvents
 * @property {{ state: ConnectionState, attempt: number }} state every change of state; `attempt`
 *   counts the reconnects since the last join (0: the first connection)
 * @property {{ roomId: number }} room another room was selected: what was shown of the last goes
 * @property {{ messages: Message[], reset: boolean, more: boolean }} history the join's replay;
 *   `reset`: the server lost what this client had: forget the room's messages first; `more`:
 *   older ones follow as `page` events
 * @property {{ messages: Message[] }} page messages of a catch-up page (REST `after=`)
 * @property {Message} message a live message (ours too: see `pending` for its ack)
 * @property {PendingMessage} pending one of our messages changed state (written, resent, sent…)
 * @property {FrameOf<'presence'>} presence who is in the room, on join
 * @property {FrameOf<'join' | 'leave'>} join someone's first connection to the room opened
 * @property {FrameOf<'join' | 'leave'>} leave someone's last connection to the room closed
 * @property {FrameOf<'presence_diff'>} presence_diff joins and leaves of a big room, batched
 * @property {FrameOf<'typing'>} typing someone is typing
 * @property {FrameOf<'error'> & { pending: PendingMessage | undefined }} error an `error` frame,
 *   with our message it is about (then already `retrying` or `failed`)
 * @property {{ code: number, reason: string, reconnecting: boolean }} close the socket closed
 */

/**
 * @typedef {object} ConnectionOptions
 * @property {string} url the server, `http://host:port` (the page: its own origin)
 * @property {SocketConstructor} [WebSocket] default: `globalThis.WebSocket` (browsers; Node 22+)
 * @property {string} [token] a personal access token (or a JWT) for servers outside open mode
 * @property {(url: string, init?: RequestInit) => Promise<Response>} [fetch] default:
 *   `globalThis.fetch`
 * @property {number} [backoffMinMs] the first reconnect's delay (half of it to all of it), 500
 * @property {number} [backoffMaxMs] the longest reconnect delay, 10 000
 * @property {number} [retryMs] the resend delay after `unavailable` or `rate_limited`, 1000
 * @property {number} [pingMs] how often to ping; no pong by the next ping: reconnect. 25 000
 * @property {number} [typingEveryMs] `typing()` sends at most once per this, 2000
 * @property {number} [pageLimit] messages per catch-up page, 1000 (the server's most)
 */

/** @type {ReadonlySet<number>} closes after which reconnecting would only be refused again */
const FINAL_CLOSES = new Set([
  CLOSE.unknownRoom,
  CLOSE.badRequest,
  CLOSE.unauthenticated,
  CLOSE.forbidden,
]);

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

  /** Every message of the room up to this id has been delivered (as events) since the join. */
  get position() {
    return this.#cursor.position;
  }

  /**
   * Our unacknowledged messages of a room (default: the current one), oldest first.
   * @param {number | null} [roomId]
   * @returns {PendingMessage[]}
   */
  pendingIn(roomId = this.#roomId) {
    return roomId === null ? [] : this.#outbox.list(roomId);
  }

  /**
   * Joins a room as `username`, from its newest messages: `selectRoom` then `connect`.
   * @param {number} roomId
   * @param {string} username 1–32 characters, no control or invisible characters (else: close `4400`)
   */
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
    if (this.#roomId === null) throw new Error('no room selected: use join(roomId, username)');
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
   * server acknowledges it (`pending` events follow it).
   * @param {string} text
   * @returns {PendingMessage}
   */
  send(text) {
    const roomId = this.#roomId;
    if (roomId === null) throw new Error('no room selected: use join(roomId, username)');
    const state = this.#state === 'connected' ? 'sending' : 'waiting';
    this.#lastTypingSent = 0;
    return this.#outbox.add(roomId, this.#username, text, state);
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
    this.#sendFrame({ type: 'message', text: pending.text, client_id: pending.clientId });
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
      case 'message':
        this.emit('message', frame);
        this.#cursor.live(frame.id);
        return;
      case 'ack':
        this.#onAck(frame);
        return;
      case 'error':
        this.#onError(frame);
        return;
      case 'presence':
        this.emit('presence', frame);
        return;
      case 'presence_diff':
        this.emit('presence_diff', frame);
        return;
      case 'typing':
        this.emit('typing', frame);
        return;
      case 'join':
      case 'leave':
        this.emit(frame.type, frame);
        return;
    }
  }

  /** @param {FrameOf<'history'>} frame @param {number} gen */
  #onHistory(frame, gen) {
    const reset = frame.reset === true;
    this.emit('history', { messages: frame.messages, reset, more: frame.more === true });
    const catchUpTo = this.#cursor.history(frame);
    this.#attempt = 0;
    if (catchUpTo > 0) void this.#catchUp(gen, catchUpTo);
    this.#setState('connected');
    if (this.#roomId !== null) this.#outbox.resend(this.#roomId);
  }

  /** Pages over REST what a `history` frame with `more` left out, up to `lastId`. */
  async #catchUp(/** @type {number} */ gen, /** @type {number} */ lastId) {
    const messagesOf = `${this.#http}/api/servers/${this.#roomId}/messages`;
    const current = () => gen === this.#generation;
    /** @param {number} after */
    const fetchPage = async (after) => {
      const response = await this.#fetch(
        `${messagesOf}?after=${after}&limit=${this.#timing.pageLimit}`,
        this.#token ? { headers: { authorization: `Bearer ${this.#token}` } } : undefined,
      );
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      return current() ? /** @type {unknown} */ (await response.json()) : [];
    };
    try {
      await this.#cursor.catchUp(
        lastId,
        fetchPage,
        (messages) => this.emit('page', { messages }),
        current,
      );
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
    if (this.#outbox.acknowledge(this.#roomId, ack)) this.#cursor.acked(ack.id);
  }

  /** @param {FrameOf<'error'>} error */
  #onError(error) {
    const pending = this.#roomId === null ? undefined : this.#outbox.refuse(this.#roomId, error);
    this.emit('error', { ...error, pending });
  }
}
