// @ts-check
/**
 * The reply being written: "Replying to {username}" and the start of the message above
 * "Message", with "Cancel reply". The composer sends its `reply_to`; it goes once sent, cancelled,
 * when the room changes, or when the message replied to is deleted.
 */
import { byId } from './dom.js';

/** @typedef {import('./connection.js').ChatConnection} ChatConnection */

/** @param {ChatConnection} conn */
export function createReply(conn) {
  const bar = byId('reply-bar', window.HTMLDivElement);
  const label = byId('reply-label', window.HTMLSpanElement);
  const quote = byId('reply-quote', window.HTMLSpanElement);
  /** @type {number | undefined} */
  let replyTo;

  function cancel() {
    replyTo = undefined;
    bar.hidden = true;
  }

  byId('reply-cancel', window.HTMLButtonElement).addEventListener('click', () => {
    cancel();
    byId('message', window.HTMLTextAreaElement).focus();
  });
  conn.on('room', cancel);
  conn.on('delete', ({ id }) => {
    if (id === replyTo) cancel();
  });

  return {
    /** Starts a reply to message `id`. @param {number} id */
    start(id) {
      const m = conn.message(id);
      if (!m) return;
      replyTo = id;
      label.textContent = `Replying to ${m.username}`;
      quote.textContent = m.text;
      bar.hidden = false;
      byId('message', window.HTMLTextAreaElement).focus();
    },
    /** The message the next one answers, if any. */
    target: () => replyTo,
    cancel,
  };
}
