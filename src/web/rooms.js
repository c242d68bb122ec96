// @ts-check
/**
 * The rooms: the list in the sidebar (direct messages go to their own list, direct-messages.js),
 * the room shown, and the form that creates one ("Private" outside open mode). A room one may
 * no longer enter (closed with 4403 or 4404) is said so, and the list is read again.
 */
import * as api from './api.js';
import { byId, h, lockIcon, storage } from './dom.js';
import { CLOSE, dmPartner, roomTitle } from './protocol.js';
import * as searchApi from './search-api.js';

/** @typedef {import('./connection.js').ChatConnection} ChatConnection */
/** @typedef {import('./protocol.js').Room} Room */

const ROOM_KEY = 'chatroom.room';
/**
 * How often a visible page reads the list again: rooms made, direct messages opened and private
 * rooms one was added to elsewhere have no live frame of their own.
 */
const REFRESH_MS = 15_000;

/**
 * @typedef {object} RoomsDeps
 * @property {ReturnType<typeof import('./status.js').createStatus>} status
 * @property {ReturnType<typeof import('./sidebar.js').createSidebar>} sidebar
 * @property {boolean} accounts accounts or JWT mode: private rooms and direct messages exist
 * @property {() => string} me the page's username ('' before it has one)
 * @property {() => boolean} chatting signed in (open mode: always)
 * @property {(room: Room, title: string) => void} shown another room is shown
 * @property {(dms: Room[], current: Room | null) => void} listed the direct messages, to show
 * @property {() => void} connect joins the selected room under the page's name, if it has one
 * @property {() => string} readerQuery `?username=` in open mode (the counts are the name's)
 * @property {(button: HTMLButtonElement, roomId: number) => void} decorate its unread count
 * @property {(rooms: Room[]) => void} counted the rooms as listed, with the counts
 * @property {(title: string) => void} titled the document's title for the room shown
 */

/** @param {ChatConnection} conn @param {RoomsDeps} deps */
export function createRooms(conn, deps) {
  const list = byId('rooms', window.HTMLUListElement);
  const form = byId('create-room', window.HTMLFormElement);
  const nameField = byId('room-name', window.HTMLInputElement);
  const privateOption = byId('private-option', window.HTMLLabelElement);
  const privateField = byId('room-private', window.HTMLInputElement);
  const createError = byId('create-error', window.HTMLParagraphElement);
  const roomTitleLine = byId('room-title', window.HTMLHeadingElement);
  /** @type {Room[]} */
  let rooms = [];
  /** @type {Room | null} */
  let room = null;

  privateOption.hidden = !deps.accounts;

  /** @param {Room} r */
  function roomButton(r) {
    const button = h('button', 'room-button');
    button.type = 'button';
    // The sign is decoration: the button's name is the room's name alone.
    const sign = h('span', 'room-hash', r.private ? undefined : '#');
    sign.setAttribute('aria-hidden', 'true');
    if (r.private) sign.append(lockIcon());
    button.append(sign, h('span', 'room-label', r.name ?? ''));
    if (room && r.id === room.id) button.setAttribute('aria-current', 'page');
    button.addEventListener('click', () => select(r));
    return button;
  }

  function render() {
    list.replaceChildren(
      ...rooms
        .filter((r) => r.dm !== true)
        .map((r) => {
          const item = h('li');
          const button = roomButton(r);
          item.append(button);
          deps.decorate(button, r.id);
          return item;
        }),
    );
    deps.listed(
      rooms.filter((r) => r.dm === true),
      room,
    );
  }

  /** Reads the rooms again. @returns {Promise<boolean>} false: the server could not be reached */
  async function load() {
    const fresh = await api.fetchRooms(deps.readerQuery());
    if (!fresh) return false;
    rooms = fresh;
    deps.counted(rooms);
    // The room shown keeps its place, with what changed of it (its owner, its name).
    if (room) room = rooms.find((r) => r.id === room?.id) ?? room;
    render();
    return true;
  }

  /** How the room shown is named ('' before one is shown). */
  const title = () => (room ? roomTitle(room, deps.me()) : '');

  /** Shows a room and joins it (a room already joined stays as it is). @param {Room} next */
  function select(next) {
    if (deps.sidebar.isOpen()) deps.sidebar.setOpen(false);
    const live = conn.state === 'connecting' || conn.state === 'connected';
    if (room && room.id === next.id && live) return;
    room = next;
    storage.set(ROOM_KEY, String(next.id));
    conn.selectRoom(next.id);
    render();
    // The heading's "#" is drawn by CSS; a DM is headed by the other person's name alone.
    const dm = next.dm === true;
    roomTitleLine.textContent = dm ? dmPartner(next, deps.me()) : (next.name ?? '');
    roomTitleLine.classList.toggle('room-title-dm', dm);
    deps.titled(`${title()} · chatroom`);
    deps.shown(next, title());
    deps.connect();
  }

  /** Shows a room just made or opened (it may not be listed yet), then reads the list again. */
  function open(/** @type {Room} */ next) {
    if (!rooms.some((r) => r.id === next.id)) rooms.push(next);
    select(next);
    void load();
  }

  /**
   * Shows the room with this id: a listed one, else one read anew (a room made meanwhile, or an
   * archived one, which is not listed). @param {number} id @returns {Promise<boolean>} false:
   * it is not (any more) to be seen
   */
  async function openById(id) {
    let found = rooms.find((r) => r.id === id);
    if (!found && (await load())) found = rooms.find((r) => r.id === id);
    found ??= (await searchApi.fetchRoom(id)) ?? undefined;
    if (!found) return false;
    select(found);
    return true;
  }

  /**
   * How the page names a room it may not have listed: as listed, else by its name (a DM not
   * listed has none). @param {{ id: number, name: string | null }} r
   */
  function label(r) {
    const listed = rooms.find((known) => known.id === r.id);
    if (listed) return roomTitle(listed, deps.me());
    return r.name === null ? 'Direct message' : `#${r.name}`;
  }

  /** The room remembered from the last visit, else the first; undefined when there is none. */
  function remembered() {
    const id = Number(storage.get(ROOM_KEY));
    return rooms.find((r) => r.id === id) ?? rooms.find((r) => r.dm !== true) ?? rooms[0];
  }

  async function create() {
    const name = nameField.value.trim();
    createError.textContent = '';
    if (!name) {
      createError.textContent = 'Enter a name for the new room.';
      nameField.focus();
      return;
    }
    const result = await api.createRoom(name, deps.accounts && privateField.checked);
    if ('error' in result) {
      createError.textContent = result.error;
      return;
    }
    nameField.value = '';
    privateField.checked = false;
    open(result.room);
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void create();
  });
  const refresh = () => {
    if (deps.chatting()) void load();
  };
  window.addEventListener('focus', refresh);
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') refresh();
  });
  window.setInterval(() => {
    if (document.visibilityState === 'visible') refresh();
  }, REFRESH_MS);
  // Joined: the list may have changed meanwhile (rooms made elsewhere).
  conn.on('state', ({ state }) => {
    if (state === 'connected') void load();
  });
  conn.on('close', ({ code, reason }) => {
    if (code !== CLOSE.unknownRoom && code !== CLOSE.forbidden) return;
    const name = room ? title() : 'this room';
    if (code === CLOSE.unknownRoom) {
      const gone = deps.accounts ? 'is gone or no longer open to you' : 'does not exist (any more)';
      deps.status.set('disconnected', `Disconnected: ${name} ${gone}`);
    } else {
      // Removed from a private room, or the account was disabled (then the list stays as is).
      const why = reason ? ` (${reason})` : '';
      deps.status.set('disconnected', `Disconnected: you are no longer allowed in ${name}${why}`);
      deps.status.showError(`You are no longer allowed in ${name}${why}.`);
    }
    void load();
  });

  return {
    load,
    select,
    open,
    openById,
    label,
    remembered,
    title,
    current: () => room,
    /** A listed room by id. @param {number} id */
    byId: (id) => rooms.find((r) => r.id === id),
  };
}
