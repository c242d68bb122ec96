// @ts-check
/**
 * What the page and other clients share with the server: the wire types, the close codes, the
 * limits a client needs before the server tells it its own (`GET /api/config`), and the checks
 * that turn untrusted JSON into those types. No DOM: Node clients load this module too.
 *
 * The types are the server's own (src/protocol.ts, src/domain/message.ts, src/domain/rooms.ts), referenced here for
 * the type checker only: comments, so nothing of the server is loaded at run time.
 */

/** @typedef {import('../domain/message.ts').Message} Message */
/** @typedef {import('../domain/rooms.ts').Room} Room */
/** @typedef {import('../protocol.ts').ServerFrame} ServerFrame */
/** @typedef {import('../protocol.ts').ClientFrame} ClientFrame */
/** @typedef {import('../protocol.ts').ClientConfig} ClientConfig */
/**
 * The server frame of one type: `FrameOf<'ack'>` is `{ type: 'ack', client_id, id }`.
 * @template {ServerFrame['type']} T
 * @typedef {Extract<ServerFrame, { type: T }>} FrameOf
 */

/**
 * WebSocket close codes of the contract (the server's table is `CLOSE` in src/protocol.ts; a unit
 * test keeps the two equal).
 */
export const CLOSE = Object.freeze({
  goingAway: 1001,
  tooBig: 1009,
  tryAgainLater: 1013,
  badRequest: 4400,
  unauthenticated: 4401,
  forbidden: 4403,
  unknownRoom: 4404,
  tooSlow: 4408,
});

/** @type {ReadonlySet<number>} closes after which reconnecting would only be refused again */
export const FINAL_CLOSES = new Set([
  CLOSE.unknownRoom,
  CLOSE.badRequest,
  CLOSE.unauthenticated,
  CLOSE.forbidden,
]);

/** The server's defaults, used until `GET /api/config` has answered. */
export const DEFAULT_CONFIG = Object.freeze({
  max_message_chars: 4000,
  max_username_chars: 32,
  max_room_name_chars: 64,
  history_replay: 50,
  rate_limit: 20,
});

// The server's name rules (src/domain/names.ts): no control, format (zero-width, bidi) or
// line/paragraph separator characters.
const FORBIDDEN = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;
const LONE_SURROGATE = /\p{Cs}/u;

/** @param {string} text @returns {number} the length in Unicode code points, as the server counts */
export function codePoints(text) {
  return [...text].length;
}

/**
 * The display name as the server will store it (NFC, trimmed), or null when it would be refused.
 * @param {string} raw
 * @param {number} [maxChars]
 * @returns {string | null}
 */
export function validName(raw, maxChars = DEFAULT_CONFIG.max_username_chars) {
  if (LONE_SURROGATE.test(raw)) return null;
  const name = raw.normalize('NFC').trim();
  const length = codePoints(name);
  if (length < 1 || length > maxChars || FORBIDDEN.test(name)) return null;
  return name;
}

/** @param {unknown} value @returns {value is Record<string, unknown>} */
export function isObject(value) {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** @param {unknown} value @returns {value is Room} */
export function isRoom(value) {
  if (!isObject(value) || typeof value.id !== 'number') return false;
  if (value.dm === true) {
    const members = value.members;
    return Array.isArray(members) && members.every((name) => typeof name === 'string');
  }
  return typeof value.name === 'string';
}

/**
 * The other person of a direct message, as `me` sees it ('' when the room is not a DM). A DM
 * with oneself is refused by the server, but one would still be shown under one's own name.
 * @param {Room} room
 * @param {string} me
 */
export function dmPartner(room, me) {
  if (room.dm !== true || !room.members) return '';
  return room.members.find((name) => name !== me) ?? room.members[0] ?? '';
}

/**
 * How the page names a room in its title, status and placeholder: `#name`, or the other
 * person's username for a direct message.
 * @param {Room} room
 * @param {string} me
 */
export function roomTitle(room, me) {
  return room.dm === true ? dmPartner(room, me) : `#${room.name ?? ''}`;
}

/**
 * One WebSocket text frame from the server, or null when it is not a frame at all. Only the
 * `type` is checked: the server is trusted to send the shapes of its own protocol, and frame
 * types a client does not know are its to ignore.
 * @param {unknown} data
 * @returns {ServerFrame | null}
 */
export function parseServerFrame(data) {
  if (typeof data !== 'string') return null;
  /** @type {unknown} */
  let frame;
  try {
    frame = JSON.parse(data);
  } catch {
    return null;
  }
  if (!isObject(frame) || typeof frame.type !== 'string') return null;
  return /** @type {ServerFrame} */ (frame);
}

/**
 * The body of `GET /api/config`, each limit checked; a missing or malformed one keeps its
 * default, so an older server still gives a working client.
 * @param {unknown} body
 * @returns {ClientConfig}
 */
export function parseClientConfig(body) {
  /** @type {ClientConfig} */
  const config = { ...DEFAULT_CONFIG };
  if (!isObject(body)) return config;
  for (const key of /** @type {(keyof ClientConfig)[]} */ (Object.keys(DEFAULT_CONFIG))) {
    const value = body[key];
    if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) config[key] = value;
  }
  return config;
}
