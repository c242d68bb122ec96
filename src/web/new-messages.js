// @ts-check
/**
 * "New messages": opening a room shows a separator before its first unread message (the first
 * message of someone else after the read marker the page knew when the room was opened).
 */
import { byId, h } from './dom.js';

/** @typedef {import('./connection.js').ChatConnection} ChatConnection */

/**
 * @param {ChatConnection} conn
 * @param {{ lastRead: (roomId: number) => number | undefined }} deps
 */
export function createNewMessages(conn, deps) {
  const log = byId('log', window.HTMLDivElement);
  /** @type {number | undefined} the marker when the room was opened */
  let marker;
  let placed = false;

  function place() {
    log.querySelector('.new-messages')?.remove();
    if (marker === undefined) return;
    for (const node of log.querySelectorAll('.msg[data-id]')) {
      if (!(node instanceof window.HTMLElement) || node.classList.contains('own')) continue;
      if (Number(node.dataset.id) <= marker) continue;
      const separator = h('div', 'new-messages');
      separator.setAttribute('role', 'separator');
      separator.setAttribute('aria-label', 'New messages');
      separator.append(h('span', 'new-messages-label', 'New messages'));
      node.before(separator);
      placed = true;
      return;
    }
  }

  conn.on('room', ({ roomId }) => {
    marker = deps.lastRead(roomId);
    placed = false;
  });
  // once per opening: later messages are read as they come
  conn.on('history', ({ reset }) => {
    if (!placed || reset) place();
  });
}
