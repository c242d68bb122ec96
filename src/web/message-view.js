// @ts-check
/** One message of the log as nodes: avatar, author, time, state, text. All of it text. */
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
    h('span', 'msg-state'),
  );
  body.append(meta, h('div', 'msg-text', text));
  node.append(avatar(username), body);
  return node;
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
