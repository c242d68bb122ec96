// @ts-check
/**
 * The REST calls of search: a page of results (`GET /api/search`), and the messages of a room
 * from one id on, to show an older message a result points at.
 */
import { UNREACHABLE, call } from './api.js';
import { isObject, isRoom } from './protocol.js';

/** @typedef {import('../domain/history.ts').SearchPage} SearchPage */
/** @typedef {import('./protocol.js').Message} Message */
/** @typedef {import('./protocol.js').Room} Room */

/** @param {unknown} value @returns {value is Message} */
function isMessage(value) {
  return (
    isObject(value) &&
    typeof value.id === 'number' &&
    typeof value.server_id === 'number' &&
    typeof value.username === 'string' &&
    typeof value.text === 'string' &&
    typeof value.ts === 'string'
  );
}

/** @param {unknown} value @returns {value is [number, number]} */
function isSpan(value) {
  return Array.isArray(value) && value.length === 2 && value.every(Number.isInteger);
}

/** @param {unknown} body @returns {body is SearchPage} */
function isSearchPage(body) {
  return (
    isObject(body) &&
    typeof body.more === 'boolean' &&
    Array.isArray(body.results) &&
    body.results.every(
      (hit) =>
        isObject(hit) &&
        isMessage(hit.message) &&
        isObject(hit.room) &&
        typeof hit.room.id === 'number' &&
        Array.isArray(hit.matches) &&
        hit.matches.every(isSpan),
    )
  );
}

/**
 * What `q` finds, newest first, older than `before` when given: the page, or what to tell the
 * user (a refused query comes back in the server's words).
 * @param {string} q
 * @param {number} [before]
 * @returns {Promise<{ page: SearchPage } | { error: string }>}
 */
export async function search(q, before) {
  const query = new URLSearchParams({ q });
  if (before !== undefined) query.set('before', String(before));
  const answer = await call('GET', `/api/search?${query}`);
  if (!answer.ok) return { error: answer.message };
  return isSearchPage(answer.body) ? { page: answer.body } : { error: UNREACHABLE };
}

/**
 * The messages of a room from `id` on (one page, oldest first); null when they cannot be read.
 * @param {number} roomId
 * @param {number} id
 * @returns {Promise<Message[] | null>}
 */
export async function messagesFrom(roomId, id) {
  const answer = await call('GET', `/api/servers/${roomId}/messages?after=${id - 1}&limit=1000`);
  return answer.ok && Array.isArray(answer.body) ? answer.body.filter(isMessage) : null;
}

/**
 * One room (one not listed: archived), or null when it cannot be seen.
 * @param {number} id
 * @returns {Promise<Room | null>}
 */
export async function fetchRoom(id) {
  const answer = await call('GET', `/api/servers/${id}`);
  return answer.ok && isRoom(answer.body) ? answer.body : null;
}
