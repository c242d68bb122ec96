// @ts-check
/**
 * The REST calls of private rooms and direct messages (accounts and JWT mode): a room's members,
 * adding and removing them, and the direct-message room with someone.
 */
import { UNREACHABLE, call } from './api.js';
import { isRoom } from './protocol.js';

/** @typedef {import('./protocol.js').Room} Room */

/** @param {number} roomId */
const membersOf = (roomId) => `/api/servers/${roomId}/members`;

/** @param {unknown} body @returns {body is string[]} */
function isNameList(body) {
  return Array.isArray(body) && body.every((name) => typeof name === 'string');
}

/**
 * The direct-message room with `username`, made on first use.
 * @param {string} username
 * @returns {Promise<{ room: Room } | { error: string }>}
 */
export async function openDm(username) {
  const answer = await call('POST', '/api/dms', { username });
  if (!answer.ok) return { error: answer.message };
  return isRoom(answer.body) ? { room: answer.body } : { error: UNREACHABLE };
}

/**
 * The members of a private room, sorted; null when they cannot be read.
 * @param {number} roomId
 * @returns {Promise<string[] | null>}
 */
export async function fetchMembers(roomId) {
  const answer = await call('GET', membersOf(roomId));
  return answer.ok && isNameList(answer.body) ? answer.body : null;
}

/**
 * Adds someone to a private room (its owner or an admin): the members after it, or why not.
 * @param {number} roomId
 * @param {string} username
 * @returns {Promise<{ members: string[] } | { error: string, code: string }>}
 */
export async function addMember(roomId, username) {
  const answer = await call('POST', membersOf(roomId), { username });
  if (!answer.ok) return { error: answer.message, code: answer.code };
  return isNameList(answer.body) ? { members: answer.body } : { error: UNREACHABLE, code: '' };
}

/**
 * Takes someone out of a private room (owner, admin, or themself).
 * @param {number} roomId
 * @param {string} username
 */
export async function removeMember(roomId, username) {
  return call('DELETE', `${membersOf(roomId)}/${encodeURIComponent(username)}`);
}
