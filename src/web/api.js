// @ts-check
/**
 * The REST calls of the page: the server's limits, the rooms, a new room, and `call`, which the
 * other API modules (accounts-api.js, rooms-api.js) build on.
 */
import { isObject, isRoom, parseClientConfig } from './protocol.js';

/** @typedef {import('./protocol.js').Room} Room */
/** @typedef {import('./protocol.js').ClientConfig} ClientConfig */
/**
 * An answer: `ok` with its JSON body, or what to tell the user (and the error's `code`).
 * @typedef {{ ok: true, status: number, body: unknown }
 *   | { ok: false, status: number, code: string, message: string }} Answer
 */

export const UNREACHABLE = 'Could not reach the server. Try again.';

/** @type {() => void} */
let unauthenticated = () => undefined;

/**
 * Who to tell when the server answers 401 (accounts and JWT mode: the session ended).
 * @param {() => void} listener
 */
export function onUnauthenticated(listener) {
  unauthenticated = listener;
}

/**
 * `fetch` of the page's own server; a 401 is also told to the `onUnauthenticated` listener.
 * @param {string} path
 * @param {RequestInit} [init]
 */
export async function request(path, init) {
  const response = await window.fetch(path, init);
  if (response.status === 401) unauthenticated();
  return response;
}

/** @param {number} seconds */
function inWords(seconds) {
  if (seconds < 60) return seconds === 1 ? '1 second' : `${seconds} seconds`;
  const minutes = Math.ceil(seconds / 60);
  return minutes === 1 ? '1 minute' : `${minutes} minutes`;
}

/**
 * A JSON request (or a file's bytes: a Blob); a refusal comes back with the server's words
 * (and, for 429, when to retry).
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]
 * @param {Record<string, string>} [headers]
 * @returns {Promise<Answer>}
 */
export async function call(method, path, body, headers = {}) {
  // a file is sent as it is (its own type, or none); anything else as JSON
  const raw = body instanceof window.Blob;
  try {
    const response = await request(path, {
      method,
      headers:
        body === undefined || raw ? headers : { ...headers, 'content-type': 'application/json' },
      body: body === undefined || raw ? body : JSON.stringify(body),
    });
    /** @type {unknown} */
    const json = await response.json().catch(() => null);
    if (response.ok) return { ok: true, status: response.status, body: json };
    let message =
      isObject(json) && typeof json.message === 'string'
        ? json.message
        : `The server refused (HTTP ${response.status})`;
    const retryAfter = Number(response.headers.get('retry-after'));
    if (response.status === 429 && retryAfter > 0) {
      // "…; try again later" becomes "…. Try again in 15 minutes."
      const reason = message.replace(/[\s;,.]*(try|retry) again later\.?$/i, '');
      message = `${reason.replace(/\.?$/, '.')} Try again in ${inWords(retryAfter)}.`;
    }
    const code = isObject(json) && typeof json.code === 'string' ? json.code : '';
    return { ok: false, status: response.status, code, message };
  } catch {
    return { ok: false, status: 0, code: '', message: UNREACHABLE };
  }
}

/** `GET /api/config`, or null when the server cannot be reached. @returns {Promise<ClientConfig | null>} */
export async function fetchConfig() {
  try {
    const response = await request('/api/config');
    return response.ok ? parseClientConfig(await response.json()) : null;
  } catch {
    return null;
  }
}

/**
 * The rooms (with the caller's counts), or null when the server cannot be reached.
 * @param {string} [query] `?username=` in open mode, for the counts
 * @returns {Promise<Room[] | null>}
 */
export async function fetchRooms(query = '') {
  const answer = await call('GET', `/api/servers${query}`);
  return answer.ok && Array.isArray(answer.body) ? answer.body.filter(isRoom) : null;
}

/**
 * Creates a room, private (outside open mode) when asked: the room, or what to tell the user.
 * @param {string} name
 * @param {boolean} [isPrivate]
 * @returns {Promise<{ room: Room } | { error: string }>}
 */
export async function createRoom(name, isPrivate = false) {
  const answer = await call('POST', '/api/servers', isPrivate ? { name, private: true } : { name });
  if (!answer.ok) return { error: answer.message };
  return isRoom(answer.body) ? { room: answer.body } : { error: UNREACHABLE };
}
