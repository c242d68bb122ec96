// @ts-check
/**
 * The composer: Enter sends, Shift+Enter starts a new line; typing says so to the room; a text
 * longer than the server's limit (`GET /api/config`) is refused here, before the server has to.
 */
import { MAX_FILES, uploadAll } from './attach.js';
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
 * @property {{ files: () => File[], clear: () => void }} attachments the files chosen for it
 *   (attach.js): uploaded first, then sent with it
 */

/** @param {ChatConnection} conn @param {ComposerDeps} deps */
export function createComposer(conn, deps) {
  const form = byId('composer', window.HTMLFormElement);
  const field = byId('message', window.HTMLTextAreaElement);

  const sendButton = byId('send', window.HTMLButtonElement);
  let uploading = false;

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void submit();
  });

  async function submit() {
    const text = field.value;
    const files = deps.attachments.files();
    if ((!text.trim() && files.length === 0) || uploading) return;
    if (!deps.ensureJoined()) return;
    const roomId = conn.roomId;
    if (roomId === null) {
      deps.showError('Pick a room first.');
      return;
    }
    const max = deps.config().max_message_chars;
    if (codePoints(text) > max) {
      deps.showError(`A message has at most ${max} characters.`);
      return;
    }
    if (files.length > MAX_FILES) {
      deps.showError(`A message carries at most ${MAX_FILES} files.`);
      return;
    }
    /** @type {{ replyTo?: number, attachments?: string[] }} */
    const options = {};
    if (files.length > 0) {
      uploading = sendButton.disabled = true;
      sendButton.textContent = 'Uploading…';
      const uploaded = await uploadAll(roomId, files, conn.username);
      uploading = sendButton.disabled = false;
      sendButton.textContent = 'Send';
      if ('error' in uploaded) {
        deps.showError(`Could not upload ${uploaded.error}`);
        return;
      }
      // another room was opened meanwhile: the files stay chosen, nothing is sent
      if (conn.roomId !== roomId) return;
      options.attachments = uploaded.ids;
    }
    const replyTo = deps.reply.target();
    if (replyTo !== undefined) options.replyTo = replyTo;
    conn.send(text.trim() ? text : '', options);
    deps.reply.cancel();
    deps.attachments.clear();
    field.value = '';
    field.focus();
  }
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
