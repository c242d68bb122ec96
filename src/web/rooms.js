// @ts-check
/** The rooms: the list in the sidebar, the room shown, and the form that creates one. */
import * as api from './api.js';
import { byId, h, storage } from './dom.js';
import { CLOSE } from './protocol.js';

/** @typedef {import('./connection.js').ChatConnection} ChatConnection */
/** @typedef {import('./protocol.js').Room} Room */

const ROOM_KEY = 'chatroom.room';

/**
 * @typedef {object} RoomsDeps
 * @property {ReturnType<typeof import('./status.js').createStatus>} status
 * @property {ReturnType<typeof import('./sidebar.js').createSidebar>} sidebar
 * @property {(room: Room) => void} shown another room is shown: show its name where it goes
 * @property {() => void} connect joins the selected room under the page's name, if it has one
 */

/** @param {ChatConnection} conn @param {RoomsDeps} deps */
export function createRooms(conn, deps) {
  const list = byId('rooms', window.HTMLUListElement);
  const form = byId('create-room', window.HTMLFormElement);
  const nameField = byId('room-name', window.HTMLInputElement);
  const createError = byId('create-error', window.HTMLParagraphElement);
  const roomTitle = byId('room-title', window.HTMLHeadingElement);
  /** @type {Room[]} */
  let rooms = [];
  /** @type {Room | null} */
  let room = null;

  function render() {
    list.replaceChildren(
      ...rooms.map((r) => {
        const item = h('li');
        const button = h('button', 'room-button');
        button.type = 'button';
        const hash = h('span', 'room-hash', '#');
        hash.setAttribute('aria-hidden', 'true');
        button.append(hash, h('span', 'room-label', r.name ?? ''));
        if (room && r.id === room.id) button.setAttribute('aria-current', 'page');
        button.addEventListener('click', () => select(r));
        item.append(button);
        return item;
      }),
    );
  }

  /** Reads the rooms again. @returns {Promise<boolean>} false: the server could not be reached */
  async function load() {
    const list = await api.fetchRooms();
    if (!list) return false;
    rooms = list;
    render();
    return true;
  }

  /** Shows a room and joins it (a room already joined stays as it is). @param {Room} next */
  function select(next) {
    if (deps.sidebar.isOpen()) deps.sidebar.setOpen(false);
    const live = conn.state === 'connecting' || conn.state === 'connected';
    if (room && room.id === next.id && live) return;
    room = next;
    storage.set(ROOM_KEY, String(next.id));
    conn.selectRoom(next.id);
    render();
    roomTitle.textContent = next.name;
    document.title = `#${next.name} · chatroom`;
    deps.shown(next);
    deps.connect();
  }

  /** The room remembered from the last visit, else the first; undefined when there is none. */
  function remembered() {
    const id = Number(storage.get(ROOM_KEY));
    return rooms.find((r) => r.id === id) ?? rooms[0];
  }

  async function create() {
    const name = nameField.value.trim();
    createError.textContent = '';
    if (!name) {
      createError.textContent = 'Enter a name for the new room.';
      nameField.focus();
      return;
    }
    const result = await api.createRoom(name);
    if ('error' in result) {
      createError.textContent = result.error;
      return;
    }
    const created = result.room;
    nameField.value = '';
    if (!rooms.some((r) => r.id === created.id)) rooms.push(created);
    select(created);
    void load();
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void create();
  });
  window.addEventListener('focus', () => void load());
  // Joined: the list may have changed meanwhile (rooms made elsewhere).
  conn.on('state', ({ state }) => {
    if (state === 'connected') void load();
  });
  conn.on('close', ({ code }) => {
    if (code !== CLOSE.unknownRoom) return;
    const name = room ? `#${room.name}` : 'this room';
    deps.status.set('disconnected', `Disconnected: ${name} does not exist (any more)`);
    void load();
  });

  return { load, select, remembered, current: () => room };
}
