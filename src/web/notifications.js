// @ts-check
/**
 * Notifications: the level of the room shown (a combobox "Notifications": All messages,
 * Mentions, Nothing; the server keeps it per user and room), a button "Enable notifications"
 * while the browser has not been asked yet, and, while the page is hidden and notifications are
 * allowed, one browser notification per `mention` frame of a room whose level is not "Nothing".
 * Clicking one brings the page forward and opens the room at that message.
 */
import { byId } from './dom.js';
import * as unreadApi from './unread-api.js';

/** @typedef {import('./connection.js').ChatConnection} ChatConnection */
/** @typedef {import('./protocol.js').Room} Room */
/** @typedef {import('./protocol.js').FrameOf<'mention'>} MentionFrame */
/** @typedef {'all' | 'mentions' | 'none'} Level */

/** A notification's body: the start of the message. */
const BODY_CHARS = 100;

/**
 * @typedef {object} NotificationsDeps
 * @property {(id: number) => Room | undefined} room a listed room
 * @property {() => string} readerQuery `?username=` in open mode, else ''
 * @property {(roomId: number, messageId: number) => void} openAt
 * @property {(text: string) => void} showError
 */

/** @param {unknown} value @returns {value is Level} */
const isLevel = (value) => value === 'all' || value === 'mentions' || value === 'none';

/** @param {ChatConnection} conn @param {NotificationsDeps} deps */
export function createNotifications(conn, deps) {
  const controls = byId('notify-controls', window.HTMLDivElement);
  const select = byId('notify-level', window.HTMLSelectElement);
  const enable = byId('enable-notifications', window.HTMLButtonElement);
  const supported = 'Notification' in window;
  /** @type {Room | null} */
  let shown = null;

  const level = (/** @type {number} */ roomId) => {
    const notify = deps.room(roomId)?.notify;
    return isLevel(notify) ? notify : 'mentions';
  };

  function offerPermission() {
    enable.hidden = !supported || window.Notification.permission !== 'default';
  }

  enable.addEventListener('click', () => {
    void window.Notification.requestPermission().then(offerPermission, offerPermission);
  });

  select.addEventListener('change', () => {
    const room = shown;
    const next = select.value;
    if (!room || !isLevel(next)) return;
    void unreadApi.setNotify(room.id, next, deps.readerQuery()).then((answer) => {
      if ('error' in answer) {
        deps.showError(answer.error);
        if (shown?.id === room.id) select.value = level(room.id);
        return;
      }
      const listed = deps.room(room.id);
      if (listed) listed.notify = answer.notify;
    });
  });

  /** @param {MentionFrame} frame */
  function notify(frame) {
    if (!supported || document.visibilityState !== 'hidden') return;
    if (window.Notification.permission !== 'granted' || level(frame.server_id) === 'none') return;
    const { message } = frame;
    const room = deps.room(frame.server_id);
    const title =
      room && !room.dm && room.name ? `${message.username} in ${room.name}` : message.username;
    const text = Array.from(message.text).slice(0, BODY_CHARS).join('');
    const files = /** @type {{ attachments?: Array<{ name: string }> }} */ (message).attachments;
    const body = text || files?.[0]?.name || '';
    const notification = new window.Notification(title, { body, tag: String(message.id) });
    notification.addEventListener('click', () => {
      window.focus();
      notification.close();
      deps.openAt(frame.server_id, message.id);
    });
  }

  conn.on('mention', notify);
  offerPermission();

  return {
    /** The room shown: its level in the combobox. @param {Room} room */
    shown(room) {
      shown = room;
      controls.hidden = false;
      select.value = level(room.id);
    },
  };
}
