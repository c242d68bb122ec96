// @ts-check
/** Presence: who is in the room now, this page's own name marked "(you)". */
import { avatar, byId, h } from './dom.js';

/** @typedef {import('./connection.js').ChatConnection} ChatConnection */

/** @param {ChatConnection} conn */
export function createMembers(conn) {
  const list = byId('members', window.HTMLUListElement);
  const count = byId('member-count', window.HTMLSpanElement);
  /** @type {Set<string>} */
  let members = new Set();

  function render() {
    const sorted = [...members].sort((a, b) => a.localeCompare(b));
    list.replaceChildren(
      ...sorted.map((name) => {
        const item = h('li', 'member');
        item.append(avatar(name), h('span', 'member-name', name));
        if (name === conn.username) item.append(h('span', 'member-you', '(you)'));
        return item;
      }),
    );
    count.textContent = members.size ? String(members.size) : '';
  }

  conn.on('room', () => {
    members = new Set();
    render();
  });
  // A new name: "(you)" moves to it.
  conn.on('state', ({ state }) => {
    if (state === 'connecting') render();
  });
  conn.on('presence', ({ users }) => {
    members = new Set(users);
    render();
  });
  conn.on('join', ({ username }) => {
    members.add(username);
    render();
  });
  conn.on('leave', ({ username }) => {
    members.delete(username);
    render();
  });
  // A batch of a big room's joins and leaves, applied as set operations.
  conn.on('presence_diff', ({ joins, leaves }) => {
    for (const name of joins) members.add(name);
    for (const name of leaves) members.delete(name);
    render();
  });
}
