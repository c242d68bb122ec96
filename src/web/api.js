// @ts-check
/** The REST calls of the page: the server's limits, the rooms, a new room (accounts: accounts-api.js). */
import { isObject, isRoom, parseClientConfig } from './protocol.js';

/** @typedef {import('./protocol.js').Room} Room */
/** @typedef {import('./protocol.js').ClientConfig} ClientConfig */

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

/** `GET /api/config`, or null when the server cannot be reached. @returns {Promise<ClientConfig | null>} */
export async function fetchConfig() {
  try {
    const response = await request('/api/config');
    return response.ok ? parseClientConfig(await response.json()) : null;
  } catch {
    return null;
  }
}

/** The rooms, or null when the server cannot be reached. @returns {Promise<Room[] | null>} */
export async function fetchRooms() {
  try {
    const response = await request('/api/servers');
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
    const response = await request('/api/servers', {
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
