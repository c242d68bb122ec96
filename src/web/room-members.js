// @ts-check
/**
 * Who belongs to the private room shown: its members are read when it is shown (and when
 * someone not yet listed joins), and its owner or an admin adds people by name ("Add member",
 * "Add") and removes them. A direct message lists its two members; nobody is added to it.
 */
import { byId } from './dom.js';
import * as roomsApi from './rooms-api.js';

/** @typedef {import('./connection.js').ChatConnection} ChatConnection */
/** @typedef {import('./protocol.js').Room} Room */
/** @typedef {import('./accounts-api.js').User} User */

/**
 * @typedef {object} RoomMembersDeps
 * @property {() => User | null} user the signed-in user (null in open mode, or signed out)
 * @property {() => Room | null} room the room shown
 * @property {ReturnType<typeof import('./members.js').createMembers>} members
 */

/** @param {ChatConnection} conn @param {RoomMembersDeps} deps */
export function createRoomMembers(conn, deps) {
  const form = byId('add-member', window.HTMLFormElement);
  const field = byId('add-member-name', window.HTMLInputElement);
  const error = byId('add-member-error', window.HTMLParagraphElement);
  const done = byId('add-member-done', window.HTMLParagraphElement);

  /** A private room that is not a DM, and this user owns it or is an admin. */
  function manages(/** @type {Room | null} */ room) {
    const user = deps.user();
    if (!room || !user || room.private !== true || room.dm === true) return false;
    return user.admin || (room.owner !== null && room.owner === user.username);
  }

  /** The room still shown, its members as the server says. @param {Room} room */
  async function loadRoster(room) {
    const names = await roomsApi.fetchMembers(room.id);
    if (names && deps.room()?.id === room.id) deps.members.setRoster(names, manages(room));
  }

  /** Another room is shown. @param {Room} room */
  function shown(room) {
    form.hidden = !manages(room);
    field.value = '';
    error.textContent = '';
    done.textContent = '';
    if (!deps.user()) return;
    if (room.dm === true) deps.members.setRoster(room.members ?? [], false);
    else if (room.private === true) void loadRoster(room);
  }

  async function add() {
    const room = deps.room();
    const username = field.value.trim();
    error.textContent = '';
    done.textContent = '';
    if (!room) return;
    if (!username) {
      error.textContent = 'Enter the username of the person to add.';
      field.focus();
      return;
    }
    const result = await roomsApi.addMember(room.id, username);
    if ('error' in result) {
      error.textContent =
        result.code === 'user_not_found' ? `There is no user named ${username}.` : result.error;
      return;
    }
    field.value = '';
    if (deps.room()?.id !== room.id) return;
    deps.members.setRoster(result.members, manages(room));
    done.textContent = `${username} can now see #${room.name ?? ''}.`;
  }

  /** Takes someone out of the private room shown (their page is told with close 4403). */
  async function remove(/** @type {string} */ username) {
    const room = deps.room();
    if (!room) return;
    error.textContent = '';
    done.textContent = '';
    const answer = await roomsApi.removeMember(room.id, username);
    if (!answer.ok) {
      error.textContent = answer.message;
      return;
    }
    done.textContent = `${username} was removed from #${room.name ?? ''}.`;
    await loadRoster(room);
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void add();
  });
  // Added by someone else meanwhile: read the members again.
  conn.on('join', ({ username }) => {
    const room = deps.room();
    if (room?.private === true && room.dm !== true && !deps.members.isMember(username)) {
      void loadRoster(room);
    }
  });

  return { shown, remove };
}
