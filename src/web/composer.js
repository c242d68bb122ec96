// @ts-check
/**
 * The composer: Enter sends, Shift+Enter starts a new line; typing says so to the room; a text
 * longer than the server's limit (`GET /api/config`) is refused here, before the server has to.
 */
import { byId } from './dom.js';
import { codePoints } from './protocol.js';

/** @typedef {import('./connection.js').ChatConnection} ChatConnection */
/** @typedef {import('./protocol.js').ClientConfig} ClientConfig */

/**
 * @typedef {object} ComposerDeps
 * @property {() => ClientConfig} config
 * @property {() => boolean} ensureJoined false: the page has no usable name (and asks for one)
 * @property {(text: string) => void} showError
 * @property {{ target: () => number | undefined, cancel: () => void }} reply the reply being
 *   written (reply.js)
 */

/** @param {ChatConnection} conn @param {ComposerDeps} deps */
export function createComposer(conn, deps) {
  const form = byId('composer', window.HTMLFormElement);
  const field = byId('message', window.HTMLTextAreaElement);

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const text = field.value;
    if (!text.trim()) return;
    if (!deps.ensureJoined()) return;
    if (conn.roomId === null) {
      deps.showError('Pick a room first.');
      return;
    }
    const max = deps.config().max_message_chars;
    if (codePoints(text) > max) {
      deps.showError(`A message has at most ${max} characters.`);
      return;
    }
    const replyTo = deps.reply.target();
    conn.send(text, replyTo === undefined ? {} : { replyTo });
    deps.reply.cancel();
    field.value = '';
    field.focus();
  });
  field.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  field.addEventListener('input', () => {
    if (field.value.trim()) conn.typing();
  });

  return {
    focus: () => field.focus(),
    /** Another room is shown, named `title` ("#general", or "bob" for a DM). @param {string} title */
    shown(title) {
      field.placeholder = `Message ${title}`;
    },
  };
}
