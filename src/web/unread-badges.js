// @ts-check
/**
 * Unread counts on the page: a badge on each room's and direct message's button (the count is
 * hidden from assistive technology: the button keeps the room's name as its accessible name, and
 * is described as "N unread" or "N unread, M mentions"), and the total in the document's title.
 * The counts come with the rooms list (GET /api/servers) and from `unread` frames, which the
 * server sends to every socket of the user, whatever room it is in.
 */
import { h } from './dom.js';

/** @typedef {import('./connection.js').ChatConnection} ChatConnection */
/** @typedef {import('./protocol.js').Room} Room */
/** @typedef {{ unread: number, mentions: number, last_read: number }} Counts */

/** Counts stop at this on the server: 1000 means 1000 or more. */
const CAP = 1000;

/** @param {number} count */
const shown = (count) => (count >= CAP ? '999+' : String(count));

/** @param {Counts} counts */
function describe(counts) {
  const unread = `${shown(counts.unread)} unread`;
  return counts.mentions > 0 ? `${unread}, ${shown(counts.mentions)} mentions` : unread;
}

/** @param {ChatConnection} conn */
export function createUnreadBadges(conn) {
  /** @type {Map<number, Counts>} */
  const counts = new Map();
  let base = 'chatroom';

  /** Shows the room's count on its button (and describes it), or nothing when all is read. */
  function decorate(/** @type {HTMLButtonElement} */ button, /** @type {number} */ roomId) {
    button.dataset.roomId = String(roomId);
    const descriptionId = `unread-${roomId}-${button.classList.contains('dm-button') ? 'dm' : 'room'}`;
    button.querySelector('.unread-badge')?.remove();
    button.parentElement?.querySelector(`#${descriptionId}`)?.remove();
    button.removeAttribute('aria-describedby');
    const room = counts.get(roomId);
    if (!room || room.unread === 0) return;
    const badge = h('span', 'unread-badge', shown(room.unread));
    badge.classList.toggle('unread-mentioned', room.mentions > 0);
    badge.setAttribute('aria-hidden', 'true');
    button.append(badge);
    // referred to while hidden: a description, not part of the button's name
    const description = h('span', undefined, describe(room));
    description.id = descriptionId;
    description.hidden = true;
    button.after(description);
    button.setAttribute('aria-describedby', descriptionId);
  }

  function retitle() {
    let total = 0;
    for (const room of counts.values()) total += room.unread;
    document.title = total > 0 ? `(${shown(total)}) ${base}` : base;
  }

  /** @param {number} roomId */
  function redraw(roomId) {
    for (const button of document.querySelectorAll(`button[data-room-id="${roomId}"]`)) {
      if (button instanceof window.HTMLButtonElement) decorate(button, roomId);
    }
    retitle();
  }

  conn.on('unread', ({ server_id, unread, mentions, last_read }) => {
    counts.set(server_id, { unread, mentions, last_read });
    redraw(server_id);
  });

  return {
    decorate,
    /** The rooms as listed, with the caller's counts (when the server gave them). @param {Room[]} rooms */
    listed: (rooms) => {
      for (const room of rooms) {
        const { unread, mentions, last_read } = room;
        if (unread === undefined || mentions === undefined || last_read === undefined) continue;
        counts.set(room.id, { unread, mentions, last_read });
      }
      retitle();
    },
    /** The document's title, before the total count. @param {string} title */
    title: (title) => {
      base = title;
      retitle();
    },
    /** Where the user had read the room up to, as last told (undefined: not known). */
    lastRead: (/** @type {number} */ roomId) => counts.get(roomId)?.last_read,
  };
}
