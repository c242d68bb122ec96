// @ts-check
/** "alice is typing…": shown for a few seconds after each `typing` frame, or until they send. */
import { byId } from './dom.js';

/** @typedef {import('./connection.js').ChatConnection} ChatConnection */

/** How long one `typing` frame keeps a name shown (others send one every 2 s while typing). */
const TYPING_SHOWN_MS = 3000;

/** @param {ChatConnection} conn */
export function createTypingIndicator(conn) {
  const line = byId('typing', window.HTMLParagraphElement);
  /** @type {Map<string, number>} username -> the timer that hides it */
  const typers = new Map();

  function render() {
    const names = [...typers.keys()];
    let text = '';
    if (names.length === 1) text = `${names[0] ?? ''} is typing…`;
    else if (names.length === 2) text = `${names[0] ?? ''} and ${names[1] ?? ''} are typing…`;
    else if (names.length > 2) text = 'Several people are typing…';
    line.textContent = text;
  }

  /** @param {string} username */
  function stop(username) {
    const timer = typers.get(username);
    if (timer === undefined) return;
    window.clearTimeout(timer);
    typers.delete(username);
    render();
  }

  conn.on('typing', ({ username }) => {
    // Our own name typing in another tab is not news.
    if (username === conn.username) return;
    window.clearTimeout(typers.get(username));
    typers.set(
      username,
      window.setTimeout(() => stop(username), TYPING_SHOWN_MS),
    );
    render();
  });
  conn.on('message', ({ username }) => stop(username));
  conn.on('leave', ({ username }) => stop(username));
  // Whoever was typing is forgotten with the connection.
  conn.on('state', ({ state }) => {
    if (state === 'connected') return;
    for (const timer of typers.values()) window.clearTimeout(timer);
    typers.clear();
    render();
  });
}
