// @ts-check
/**
 * Opening a room at one message (a search result): the room is shown and joined as any other;
 * once its history is in, the message is scrolled to, focused and marked in the log. A message
 * older than the join's replay is read over REST first (it and up to 999 after it, so that what
 * is shown from it on has no gap unless the room got more than that since).
 */
import * as searchApi from './search-api.js';

/** @typedef {import('./connection.js').ChatConnection} ChatConnection */

/**
 * @typedef {object} JumpDeps
 * @property {(roomId: number) => Promise<boolean>} select shows the room (false: not to be seen)
 * @property {(id: number) => boolean} reveal scrolls to the message in the log (false: not there)
 * @property {(text: string) => void} showError
 */

/** @param {ChatConnection} conn @param {JumpDeps} deps */
export function createJump(conn, deps) {
  /** @type {{ roomId: number, id: number } | null} */
  let wanted = null;

  /** Reveals the wanted message once its room's history is in (`joined`: it just came). */
  async function settle(joined = conn.state === 'connected') {
    const target = wanted;
    if (!target || conn.roomId !== target.roomId || !joined) return;
    wanted = null;
    if (!conn.message(target.id)) {
      const page = await searchApi.messagesFrom(target.roomId, target.id);
      if (page && conn.roomId === target.roomId) conn.showPage(page);
    }
    if (!deps.reveal(target.id)) deps.showError('That message is no longer there.');
  }

  // after the log (made before this) has put the join's messages in
  conn.on('history', () => void settle(true));

  return {
    /** Shows room `roomId` at message `id`. @param {number} roomId @param {number} id */
    async open(roomId, id) {
      wanted = { roomId, id };
      if (!(await deps.select(roomId))) {
        wanted = null;
        deps.showError('That room is no longer open to you.');
        return;
      }
      // a room already joined has no new history to wait for
      await settle();
    },
  };
}
