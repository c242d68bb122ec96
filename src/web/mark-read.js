// @ts-check
/**
 * Read markers: while the page is visible and the log is scrolled to its end, the room's newest
 * message is read, and the page says so (`read`), so that its count clears on the user's other
 * pages and devices too.
 */
import { byId } from './dom.js';

/** @typedef {import('./connection.js').ChatConnection} ChatConnection */
/** @typedef {import('./protocol.js').Message} Message */

/** Closer than this to the bottom is "at the end". */
const END_PX = 40;
/** Scrolls and messages are looked at together, after this. */
const SETTLE_MS = 250;

/** @param {ChatConnection} conn */
export function createMarkRead(conn) {
  const wrap = byId('log-wrap', window.HTMLDivElement);
  let newest = 0;
  let sent = 0;
  /** @type {number | undefined} */
  let timer;

  function check() {
    timer = undefined;
    if (document.visibilityState !== 'visible' || newest <= sent) return;
    if (wrap.scrollHeight - wrap.scrollTop - wrap.clientHeight > END_PX) return;
    if (conn.read(newest)) sent = newest;
  }

  function soon() {
    if (timer === undefined) timer = window.setTimeout(check, SETTLE_MS);
  }

  /** @param {Message[]} messages */
  function seen(messages) {
    for (const m of messages) if (m.server_id === conn.roomId) newest = Math.max(newest, m.id);
    soon();
  }

  conn.on('room', () => {
    newest = 0;
    sent = 0;
  });
  conn.on('history', ({ messages }) => seen(messages));
  conn.on('page', ({ messages }) => seen(messages));
  conn.on('message', (message) => seen([message]));
  conn.on('state', ({ state }) => {
    // a new socket: its marker may have been left behind while away
    if (state === 'connected') sent = 0;
  });
  wrap.addEventListener('scroll', soon, { passive: true });
  document.addEventListener('visibilitychange', soon);
  window.addEventListener('focus', soon);
}
