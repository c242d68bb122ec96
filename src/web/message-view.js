// @ts-check
/**
 * One message of the log as nodes: avatar, author, time, "(edited)", state, its quote, text,
 * reactions and its actions (Reply, React, Edit, Delete: message-actions.js handles them). All
 * of it text.
 */
import { avatar, formatTime, h } from './dom.js';

/** Consecutive messages of one author within this time are shown as one group. */
const GROUP_WINDOW_MS = 5 * 60_000;

/**
 * @param {string} username
 * @param {string} text
 * @param {boolean} own written under this page's name
 */
export function messageNode(username, text, own) {
  const node = h('div', 'msg');
  node.dataset.author = username;
  if (own) node.classList.add('own');
  const body = h('div', 'msg-body');
  const meta = h('div', 'msg-meta');
  meta.append(
    h('span', 'msg-author', username),
    document.createTextNode(' '),
    h('time', 'msg-time'),
    h('span', 'msg-edited'),
    h('span', 'msg-state'),
  );
  const actions = h('div', 'msg-actions');
  for (const name of ['Reply', 'React', 'Edit', 'Delete']) {
    const button = h('button', 'msg-action', name);
    button.type = 'button';
    button.dataset.action = name.toLowerCase();
    actions.append(button);
  }
  body.append(
    meta,
    h('div', 'msg-text', text),
    h('div', 'msg-attachments'),
    h('div', 'msg-reactions'),
  );
  node.append(avatar(username), body, actions);
  return node;
}

/**
 * Shows a message as it is now: text, "(edited)", quote, reactions (pressed: `me` reacted), and
 * which actions `me` has ("Edit" on own messages; "Delete" on own ones, or all for moderators).
 * @param {HTMLElement} node
 * @param {import('./protocol.js').Message} m
 * @param {{ me: string, moderator: boolean }} viewer
 */
export function showMessage(node, m, viewer) {
  const own = m.username === viewer.me;
  const text = node.querySelector('.msg-text');
  if (text) text.textContent = m.text;
  const edited = node.querySelector('.msg-edited');
  if (edited) edited.textContent = m.edited_at ? '(edited)' : '';
  node.querySelector('.msg-quote')?.remove();
  if (m.quote) {
    const quote = h('blockquote', 'msg-quote');
    quote.append(
      h('span', 'msg-quote-author', m.quote.username),
      h('span', 'msg-quote-text', m.quote.text),
    );
    text?.before(quote);
  }
  node.querySelector('.msg-attachments')?.replaceChildren(...(m.attachments ?? []).map(fileNode));
  const reactions = node.querySelector('.msg-reactions');
  reactions?.replaceChildren(
    ...(m.reactions ?? []).map((r) => {
      const button = h('button', 'reaction', `${r.emoji} ${r.count}`);
      button.type = 'button';
      button.dataset.emoji = r.emoji;
      button.setAttribute('aria-pressed', String(r.users.includes(viewer.me)));
      button.title = r.users.join(', ');
      return button;
    }),
  );
  for (const button of node.querySelectorAll('.msg-action')) {
    if (!(button instanceof window.HTMLElement)) continue;
    const action = button.dataset.action;
    if (action === 'edit') button.hidden = !own;
    if (action === 'delete') button.hidden = !own && !viewer.moderator;
  }
}

/** The image types shown in place (the server serves them inline); other files are links. */
const IMAGE_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);
/** The largest an image is shown, in CSS pixels. */
const MAX_IMAGE = { width: 400, height: 300 };

/**
 * An attachment as the log shows it: an image at most 400 × 300, its space reserved from its
 * pixels before it loads, named by its file name; any other file a link named by its file name.
 * @param {import('../domain/attachments.ts').Attachment} file
 */
function fileNode(file) {
  if (IMAGE_TYPES.has(file.type) && file.width && file.height) {
    const scale = Math.min(1, MAX_IMAGE.width / file.width, MAX_IMAGE.height / file.height);
    const image = h('img', 'msg-image');
    image.alt = file.name;
    image.width = Math.max(1, Math.round(file.width * scale));
    image.height = Math.max(1, Math.round(file.height * scale));
    image.decoding = 'async';
    image.src = urlOf(file);
    return image;
  }
  const link = h('a', 'msg-file', file.name);
  link.href = urlOf(file);
  link.download = file.name;
  const item = h('span', 'msg-file-item');
  item.append(link, h('span', 'msg-file-size', sizeInWords(file.size)));
  return item;
}

/** Where its bytes are, made here from its id. @param {{ id: string }} file */
function urlOf(file) {
  return `/api/attachments/${encodeURIComponent(file.id)}`;
}

/** "12 KB", "3.4 MB". @param {number} bytes */
function sizeInWords(bytes) {
  if (bytes < 1000) return `${bytes} B`;
  if (bytes < 1_000_000) return `${Math.round(bytes / 1000)} KB`;
  return `${(bytes / 1_000_000).toFixed(1)} MB`;
}

/** @param {HTMLElement} node @param {string | null} ts null: not sent yet, shown as now */
export function setMessageTime(node, ts) {
  const time = node.querySelector('time');
  if (!time) return;
  const date = ts ? new Date(ts) : new Date();
  node.dataset.ts = String(date.getTime());
  time.textContent = formatTime(date);
  if (ts) {
    time.dateTime = ts;
    time.title = date.toLocaleString();
  }
}

/** "Sending…", "Not sent: …", or '' once sent. @param {HTMLElement} node @param {string} text */
export function setMessageState(node, text) {
  const state = node.querySelector('.msg-state');
  if (state) state.textContent = text;
}

/** Groups a message with the one before it when they are close in time and of one author. */
export function regroup(/** @type {Element | null} */ node) {
  if (!(node instanceof window.HTMLElement)) return;
  const prev = node.previousElementSibling;
  const grouped =
    prev instanceof window.HTMLElement &&
    prev.dataset.author === node.dataset.author &&
    !prev.classList.contains('failed') &&
    Math.abs(Number(node.dataset.ts) - Number(prev.dataset.ts)) < GROUP_WINDOW_MS;
  node.classList.toggle('grouped', grouped);
}
