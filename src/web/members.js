// @ts-check
/**
 * The list "Members": who is in the room now, this page's own name marked "(you)". In a private
 * room or a direct message its members are listed too, those not here marked "away". Outside
 * open mode each entry but one's own is a button "Message {username}" that opens the direct
 * message with them; a private room's owner (or an admin) also gets "Remove {username}".
 */
import { avatar, byId, h } from './dom.js';

/** @typedef {import('./connection.js').ChatConnection} ChatConnection */

/**
 * @typedef {object} MembersDeps
 * @property {boolean} messaging accounts or JWT mode: entries open direct messages
 * @property {() => string} me the page's own username
 * @property {(username: string) => void} message opens the direct message with them
 * @property {(username: string) => void} remove takes them out of the private room shown
 */

/** @param {ChatConnection} conn @param {MembersDeps} deps */
export function createMembers(conn, deps) {
  const list = byId('members', window.HTMLUListElement);
  const count = byId('member-count', window.HTMLSpanElement);
  /** Who is connected to the room. @type {Set<string>} */
  let present = new Set();
  /** The members of a private room or a direct message; empty for a public room. @type {Set<string>} */
  let roster = new Set();
  let removable = false;

  /** @param {string} name */
  function messageButton(name) {
    const button = h('button', 'member-button');
    button.type = 'button';
    // The name comes from the content ("Message" hidden from sight), not from aria-label: the
    // field "Message" keeps the only label that says so.
    button.append(h('span', 'visually-hidden', 'Message '), avatar(name));
    button.append(h('span', 'member-name', name));
    button.addEventListener('click', () => deps.message(name));
    return button;
  }

  /** @param {string} name */
  function removeButton(name) {
    const button = h('button', 'member-remove', 'Remove');
    button.type = 'button';
    button.setAttribute('aria-label', `Remove ${name}`);
    button.addEventListener('click', () => deps.remove(name));
    return button;
  }

  /** @param {string} name */
  function entry(name) {
    const me = name === deps.me();
    const item = h('li', present.has(name) ? 'member' : 'member member-away');
    if (deps.messaging && !me) item.append(messageButton(name));
    else item.append(avatar(name), h('span', 'member-name', name));
    if (me) item.append(h('span', 'member-you', '(you)'));
    if (!present.has(name)) item.append(h('span', 'member-note', 'away'));
    if (removable && !me && roster.has(name)) item.append(removeButton(name));
    return item;
  }

  function render() {
    const names = [...new Set([...present, ...roster])].sort((a, b) => a.localeCompare(b));
    list.replaceChildren(...names.map(entry));
    count.textContent = present.size ? String(present.size) : '';
  }

  conn.on('room', () => {
    present = new Set();
    roster = new Set();
    removable = false;
    render();
  });
  // A new name: "(you)" moves to it.
  conn.on('state', ({ state }) => {
    if (state === 'connecting') render();
  });
  conn.on('presence', ({ users }) => {
    present = new Set(users);
    render();
  });
  conn.on('join', ({ username }) => {
    present.add(username);
    render();
  });
  conn.on('leave', ({ username }) => {
    present.delete(username);
    render();
  });
  // A batch of a big room's joins and leaves, applied as set operations.
  conn.on('presence_diff', ({ joins, leaves }) => {
    for (const name of joins) present.add(name);
    for (const name of leaves) present.delete(name);
    render();
  });

  return {
    /**
     * The members of the private room or direct message shown, and whether this page may remove
     * them (owner, admin).
     * @param {string[]} names
     * @param {boolean} canRemove
     */
    setRoster(names, canRemove) {
      roster = new Set(names);
      removable = canRemove;
      render();
    },
    /** Whether `name` is a listed member of the private room shown. @param {string} name */
    isMember: (name) => roster.has(name),
  };
}
