// @ts-check
/**
 * Direct messages (accounts and JWT mode): their own list in the sidebar, apart from the rooms,
 * each named by the other person's username; and opening the one with someone ("Message bob"
 * in the members list), made on first use.
 */
import { avatar, byId, h } from './dom.js';
import { dmPartner } from './protocol.js';
import * as roomsApi from './rooms-api.js';

/** @typedef {import('./protocol.js').Room} Room */

/**
 * @typedef {object} DirectMessagesDeps
 * @property {boolean} accounts accounts or JWT mode (open mode has no direct messages)
 * @property {() => string} me the signed-in username
 * @property {(room: Room) => void} select shows a listed direct message
 * @property {(room: Room) => void} open shows a direct message just opened (maybe not listed yet)
 * @property {(text: string) => void} showError
 * @property {(button: HTMLButtonElement, roomId: number) => void} decorate its unread count
 */

/** @param {DirectMessagesDeps} deps */
export function createDirectMessages(deps) {
  const section = byId('direct-messages', window.HTMLElement);
  const list = byId('dm-list', window.HTMLUListElement);
  const empty = byId('dm-empty', window.HTMLParagraphElement);
  let opening = false;

  section.hidden = !deps.accounts;

  /** @param {Room} room @param {Room | null} current */
  function entry(room, current) {
    const partner = dmPartner(room, deps.me());
    const button = h('button', 'room-button dm-button');
    button.type = 'button';
    button.append(avatar(partner), h('span', 'room-label', partner));
    if (current && current.id === room.id) button.setAttribute('aria-current', 'page');
    button.addEventListener('click', () => deps.select(room));
    const item = h('li');
    item.append(button);
    deps.decorate(button, room.id);
    return item;
  }

  return {
    /** The direct messages as listed by the server. @param {Room[]} dms @param {Room | null} current */
    render(dms, current) {
      if (!deps.accounts) return;
      const sorted = [...dms].sort((a, b) =>
        dmPartner(a, deps.me()).localeCompare(dmPartner(b, deps.me())),
      );
      list.replaceChildren(...sorted.map((room) => entry(room, current)));
      empty.hidden = dms.length > 0;
    },
    /** Opens (and on first use makes) the direct message with `username`. @param {string} username */
    async openWith(username) {
      if (opening) return;
      opening = true;
      const result = await roomsApi.openDm(username);
      opening = false;
      if ('error' in result) deps.showError(result.error);
      else deps.open(result.room);
    },
  };
}
