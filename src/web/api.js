// @ts-check
/** The REST calls of the page: the server's limits, the rooms, a new room. */
import { isObject, isRoom, parseClientConfig } from './protocol.js';

/** @typedef {import('./protocol.js').Room} Room */
/** @typedef {import('./protocol.js').ClientConfig} ClientConfig */

/** `GET /api/config`, or null when the server cannot be reached. @returns {Promise<ClientConfig | null>} */
export async function fetchConfig() {
  try {
    const response = await window.fetch('/api/config');
    return response.ok ? parseClientConfig(await response.json()) : null;
  } catch {
    return null;
  }
}

/** The rooms, or null when the server cannot be reached. @returns {Promise<Room[] | null>} */
export async function fetchRooms() {
  try {
    const response = await window.fetch('/api/servers');
    if (!response.ok) return null;
    /** @type {unknown} */
    const list = await response.json();
    return Array.isArray(list) ? list.filter(isRoom) : null;
  } catch {
    return null;
  }
}

/**
 * Creates a room: the room, or what to tell the user instead.
 * @param {string} name
 * @returns {Promise<{ room: Room } | { error: string }>}
 */
export async function createRoom(name) {
  try {
    const response = await window.fetch('/api/servers', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name }),
    });
    /** @type {unknown} */
    const body = await response.json().catch(() => null);
    if (response.ok && isObject(body)) return isRoom(body) ? { room: body } : { error: '' };
    const message =
      isObject(body) && typeof body.message === 'string'
        ? body.message
        : `Could not create the room (HTTP ${response.status})`;
    return { error: message };
  } catch {
    return { error: 'Could not reach the server. Try again.' };
  }
}
