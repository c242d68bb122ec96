// @ts-check
/**
 * The files chosen for the next message: "Attach" opens the file chooser, and files dropped or
 * pasted on "Message" join them. Each is listed under "Attachments" with a button "Remove
 * {name}". The composer uploads them when the message is sent (`uploadAll`), then sends their
 * ids with it.
 */
import { call } from './api.js';
import { byId, h } from './dom.js';

/** The most files one message carries (the server's limit). */
export const MAX_FILES = 10;

/** @typedef {import('../domain/attachments.ts').AttachmentInfo} AttachmentInfo */

export function createAttachments() {
  const attach = byId('attach', window.HTMLButtonElement);
  const input = byId('attach-input', window.HTMLInputElement);
  const list = byId('attachments', window.HTMLUListElement);
  const field = byId('message', window.HTMLTextAreaElement);
  /** @type {File[]} */
  let files = [];

  function render() {
    list.replaceChildren(
      ...files.map((file) => {
        const remove = h('button', 'attachment-remove', '×');
        remove.type = 'button';
        remove.setAttribute('aria-label', `Remove ${file.name}`);
        remove.addEventListener('click', () => {
          files = files.filter((kept) => kept !== file);
          render();
          field.focus();
        });
        const item = h('li', 'attachment-chosen');
        item.append(h('span', 'attachment-chosen-name', file.name), remove);
        return item;
      }),
    );
    list.hidden = files.length === 0;
  }

  /** @param {FileList | null | undefined} more */
  function add(more) {
    if (!more || more.length === 0) return false;
    files.push(...Array.from(more));
    render();
    return true;
  }

  attach.addEventListener('click', () => input.click());
  input.addEventListener('change', () => {
    add(input.files);
    input.value = '';
    field.focus();
  });
  field.addEventListener('dragover', (event) => {
    if (event.dataTransfer?.types.includes('Files')) event.preventDefault();
  });
  field.addEventListener('drop', (event) => {
    if (add(event.dataTransfer?.files)) event.preventDefault();
  });
  field.addEventListener('paste', (event) => {
    if (add(event.clipboardData?.files)) event.preventDefault();
  });

  return {
    /** The files chosen, in order. */
    files: () => [...files],
    clear() {
      files = [];
      render();
    },
  };
}

/**
 * Uploads files to a room, in order (open mode names the uploader): their ids, or what to tell
 * the user about the first that failed.
 * @param {number} roomId
 * @param {File[]} files
 * @param {string} username
 * @returns {Promise<{ ids: string[] } | { error: string }>}
 */
export async function uploadAll(roomId, files, username) {
  const ids = [];
  for (const file of files) {
    const query = new URLSearchParams({ name: file.name, username });
    const answer = await call('POST', `/api/servers/${roomId}/attachments?${query}`, file);
    if (!answer.ok) return { error: `${file.name}: ${answer.message}` };
    const body = /** @type {Partial<AttachmentInfo> | null} */ (answer.body);
    if (typeof body?.id !== 'string') return { error: `${file.name}: no answer` };
    ids.push(body.id);
  }
  return { ids };
}
