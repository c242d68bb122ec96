// @ts-check
/**
 * The connection's (connection.js) states, events and options: types only, kept apart so that
 * the connection itself stays readable. No DOM.
 */

/** @typedef {import('./protocol.js').Message} Message */
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
 *   older ones follow as `page` events. Its `updates` follow as `update` and `delete` events
 * @property {{ messages: Message[] }} page messages of a catch-up page (REST `after=`), or given to
 *   `showPage`
 * @property {Message} message a live message (ours too: see `pending` for its ack)
 * @property {Message} update a message changed (edited, reacted to, its quote changed): show
 *   it as it is now (it may be one not shown yet)
 * @property {{ id: number }} delete a message is gone, for everyone
 * @property {PendingMessage} pending one of our messages changed state (written, resent, sent…)
 * @property {FrameOf<'presence'>} presence who is in the room, on join
 * @property {FrameOf<'join' | 'leave'>} join someone's first connection to the room opened
 * @property {FrameOf<'join' | 'leave'>} leave someone's last connection to the room closed
 * @property {FrameOf<'presence_diff'>} presence_diff joins and leaves of a big room, batched
 * @property {FrameOf<'typing'>} typing someone is typing
 * @property {FrameOf<'unread'>} unread the user's counts in one of their rooms changed (any
 *   room: sent to every socket of the user)
 * @property {FrameOf<'mention'>} mention a new message asks for the user's attention (it
 *   mentions them or the room, is a DM, or their level for its room is `all`)
 * @property {FrameOf<'error'> & { pending: PendingMessage | undefined, change: boolean }} error
 *   an `error` frame, with our message it is about (then already `retrying` or `failed`);
 *   `change`: it is about an edit, delete or reaction of ours (its promise says so too)
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

export {};
