// @ts-check
/**
 * What one can do to a message of the log: its buttons "Reply", "React", "Edit", "Delete" (shown
 * on hover and focus, see log.css) and the reactions under it, which toggle. "Edit" turns the
 * text into a field "Edit message" in place (Enter or "Save" saves, Escape or "Cancel" cancels);
 * "Delete" asks in the alertdialog "Delete message?"; "React" opens the dialog "React". Refusals
 * come as `error` frames, which the status line shows in words (status.js).
 */
import { byId, h } from './dom.js';

/** @typedef {import('./connection.js').ChatConnection} ChatConnection */

/** The picker's emoji, 👍 first. */
export const PICKER_EMOJI = Object.freeze(['👍', '❤️', '😂', '🎉', '😮', '😢', '🙏', '👀']);

/**
 * @typedef {object} ActionDeps
 * @property {(id: number) => void} reply "Reply" was pressed on message `id`
 * @property {() => string} me
 */

/** @param {ChatConnection} conn @param {ActionDeps} deps */
export function createMessageActions(conn, deps) {
  const log = byId('log', window.HTMLDivElement);
  const deleteDialog = byId('delete-dialog', window.HTMLDialogElement);
  const reactDialog = byId('react-dialog', window.HTMLDialogElement);
  const picker = byId('emoji-picker', window.HTMLDivElement);
  /** The message the open dialog is about. */
  let target = 0;
  // Named only while open: a closed "Delete message?" would also answer to the label "Message".
  deleteDialog.addEventListener('close', () => deleteDialog.removeAttribute('aria-labelledby'));

  // Refusals are shown by the status line from the error frame; nothing more to do here.
  const quietly = (/** @type {Promise<unknown>} */ promise) => void promise.catch(() => undefined);

  for (const emoji of PICKER_EMOJI) {
    const button = h('button', 'emoji', emoji);
    button.type = 'button';
    button.addEventListener('click', () => {
      reactDialog.close();
      quietly(conn.react(target, emoji, true));
    });
    picker.append(button);
  }
  byId('react-cancel', window.HTMLButtonElement).addEventListener('click', () =>
    reactDialog.close(),
  );
  byId('delete-cancel', window.HTMLButtonElement).addEventListener('click', () =>
    deleteDialog.close(),
  );
  byId('delete-confirm', window.HTMLButtonElement).addEventListener('click', () => {
    deleteDialog.close();
    quietly(conn.deleteMessage(target));
  });

  log.addEventListener('click', (event) => {
    const button = event.target instanceof window.Element ? event.target.closest('button') : null;
    const node = button?.closest('.msg');
    if (!button || !(node instanceof window.HTMLElement) || !node.dataset.id) return;
    const id = Number(node.dataset.id);
    if (button.dataset.emoji) {
      const on = button.getAttribute('aria-pressed') !== 'true';
      quietly(conn.react(id, button.dataset.emoji, on));
      return;
    }
    switch (button.dataset.action) {
      case 'reply':
        deps.reply(id);
        return;
      case 'react':
        target = id;
        reactDialog.showModal();
        return;
      case 'edit':
        startEditing(node, id);
        return;
      case 'delete':
        target = id;
        deleteDialog.setAttribute('aria-labelledby', 'delete-title');
        deleteDialog.showModal();
        return;
    }
  });

  /** @param {HTMLElement} node @param {number} id */
  function startEditing(node, id) {
    const text = node.querySelector('.msg-text');
    if (!(text instanceof window.HTMLElement) || node.querySelector('.msg-editor')) return;
    const form = h('form', 'msg-editor');
    const field = h('textarea', 'msg-edit-field');
    field.setAttribute('aria-label', 'Edit message');
    field.value = conn.message(id)?.text ?? text.textContent ?? '';
    const save = h('button', 'button button-primary', 'Save');
    save.type = 'submit';
    const cancel = h('button', 'button button-quiet', 'Cancel');
    cancel.type = 'button';
    form.append(field, save, cancel);
    text.hidden = true;
    text.after(form);
    field.focus();
    const stop = () => {
      form.remove();
      text.hidden = false;
    };
    cancel.addEventListener('click', stop);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const value = field.value;
      if (!value.trim()) return;
      stop();
      if (value !== conn.message(id)?.text) quietly(conn.edit(id, value));
    });
    field.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') {
        event.preventDefault();
        stop();
      } else if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
  }
}
