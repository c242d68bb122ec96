// @ts-check
/** The REST call of notification levels (read markers travel on the WebSocket: `read`). */
import { UNREACHABLE, call } from './api.js';
import { isObject } from './protocol.js';

/**
 * Sets the caller's level for a room: the level the server keeps, or what to tell the user.
 * @param {number} roomId
 * @param {'all' | 'mentions' | 'none'} level
 * @param {string} query `?username=` in open mode, else ''
 * @returns {Promise<{ notify: 'all' | 'mentions' | 'none' } | { error: string }>}
 */
export async function setNotify(roomId, level, query) {
  const answer = await call('PUT', `/api/servers/${roomId}/notify${query}`, { level });
  if (!answer.ok) return { error: answer.message };
  const notify = isObject(answer.body) ? answer.body.notify : undefined;
  return notify === 'all' || notify === 'mentions' || notify === 'none'
    ? { notify }
    : { error: UNREACHABLE };
}
