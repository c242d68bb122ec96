// @ts-check
/**
 * The status line under the room's title (connecting, connected, reconnecting…) and the chat's
 * error line above the composer; the page is marked offline whenever it is not connected.
 */
import { byId } from './dom.js';
import { errorWords } from './error-words.js';

/** @typedef {import('./connection.js').ChatConnection} ChatConnection */
/** @typedef {'idle' | 'connecting' | 'connected' | 'reconnecting' | 'disconnected'} StatusState */

const ERROR_SHOWN_MS = 8000;

/**
 * @param {ChatConnection} conn
 * @param {() => string} roomTitle how the room shown is named ("#general"; a DM: the other's name)
 */
export function createStatus(conn, roomTitle) {
  const app = byId('app', window.HTMLDivElement);
  const line = byId('status', window.HTMLParagraphElement);
  const chatError = byId('chat-error', window.HTMLParagraphElement);
  /** @type {number | undefined} */
  let errorTimer;

  /** @param {StatusState} state @param {string} text */
  function set(state, text) {
    line.dataset.state = state;
    line.textContent = text;
    app.dataset.connection = state;
  }

  /** Shows an error for a few seconds. @param {string} text */
  function showError(text) {
    chatError.textContent = text;
    window.clearTimeout(errorTimer);
    errorTimer = window.setTimeout(() => (chatError.textContent = ''), ERROR_SHOWN_MS);
  }

  conn.on('state', ({ state, attempt }) => {
    app.classList.toggle('offline', state !== 'connected');
    if (state === 'connecting' && attempt === 0) set('connecting', 'Connecting…');
    else if (state === 'connecting' || state === 'reconnecting')
      set('reconnecting', 'Reconnecting…');
    else if (state === 'connected') set('connected', `Connected to ${roomTitle()}`);
    // idle and closed: whoever left or was refused says why.
  });
  conn.on('error', ({ code, message, pending }) => {
    // A message slowed down by the rate limit is retried, quietly.
    if (pending?.state === 'retrying' && code === 'rate_limited') return;
    showError(errorWords(code, message));
  });

  return { set, showError };
}
