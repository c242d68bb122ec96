// @ts-check
/**
 * The conversation: the room's messages in id order, each once, and after them our messages the
 * server has not acknowledged yet (see outbox.js), until their ack or their own message frame
 * puts them in place.
 */
import { byId } from './dom.js';
import {
  messageNode,
  regroup,
  setMessageState,
  setMessageTime,
  showMessage,
} from './message-view.js';

/** @typedef {import('./connection.js').ChatConnection} ChatConnection */
/** @typedef {import('./protocol.js').Message} Message */
/** @typedef {import('./outbox.js').PendingMessage} PendingMessage */

/** Closer than this to the bottom, the log follows new messages. */
const STICKY_PX = 120;

/** @type {Record<'waiting' | 'sending' | 'retrying', string>} */
const PENDING_TEXT = {
  waiting: 'Waiting for connection…',
  sending: 'Sending…',
  retrying: 'Retrying…',
};

/**
 * @param {ChatConnection} conn
 * @param {{ viewer: () => { me: string, moderator: boolean } }} deps who looks: own messages
 *   can be edited, moderators delete any
 */
export function createLog(conn, deps) {
  const wrap = byId('log-wrap', window.HTMLDivElement);
  const log = byId('log', window.HTMLDivElement);
  /** @type {Map<number, HTMLElement>} message id -> its node */
  const nodes = new Map();
  /**
   * client_id -> the node of one of our unacknowledged messages, and the id of the message it
   * stands for in the log (0 while none).
   * @type {Map<string, { node: HTMLElement, id: number }>}
   */
  const ours = new Map();
  /** @type {number | null} */
  let roomId = null;

  function nearBottom() {
    return wrap.scrollHeight - wrap.scrollTop - wrap.clientHeight < STICKY_PX;
  }

  function scrollToBottom() {
    wrap.scrollTop = wrap.scrollHeight;
  }

  /**
   * Puts a message with an id into the log, ordered by id, before our unacknowledged messages.
   * @param {HTMLElement} node
   * @param {number} id
   */
  function insertById(node, id) {
    let after = null;
    for (let child = log.lastElementChild; child; child = child.previousElementSibling) {
      if (
        child instanceof window.HTMLElement &&
        child.dataset.id &&
        Number(child.dataset.id) < id
      ) {
        after = child;
        break;
      }
    }
    const next = node.nextElementSibling;
    if (after) after.after(node);
    else log.prepend(node);
    regroup(node);
    regroup(node.nextElementSibling);
    regroup(next);
  }

  /** @param {HTMLElement} node @param {number} id @param {string} ts */
  function place(node, id, ts) {
    node.dataset.id = String(id);
    setMessageTime(node, ts);
    nodes.set(id, node);
    insertById(node, id);
  }

  /** Renders a message once: one already in the log (by id) is only updated. @param {Message} m */
  function render(m) {
    if (m.server_id !== roomId) return;
    const stick = nearBottom();
    const existing = nodes.get(m.id);
    if (existing) {
      // Our own message placed at its ack before its message frame came, or a change.
      setMessageTime(existing, m.ts);
      showMessage(existing, m, deps.viewer());
      return;
    }
    if (m.username === conn.username && adopt(m)) return;
    const node = messageNode(m.username, m.text, m.username === conn.username);
    showMessage(node, m, deps.viewer());
    place(node, m.id, m.ts);
    if (stick) scrollToBottom();
  }

  /** A deleted message leaves the log. @param {number} id */
  function remove(id) {
    const node = nodes.get(id);
    if (!node) return;
    nodes.delete(id);
    const next = node.nextElementSibling;
    node.remove();
    regroup(next);
  }

  /**
   * Our own message frame usually comes before its ack, which alone carries the client_id: the
   * frame takes over the node of the oldest unmatched pending message with the same text, so
   * that the message is never shown twice. (Two identical texts sent at once from two tabs of
   * the same name may swap nodes; both are still shown once each.)
   * @param {Message} m
   */
  function adopt(m) {
    for (const pending of conn.pendingIn(roomId)) {
      const entry = ours.get(pending.clientId);
      if (!entry || entry.id !== 0 || pending.text !== m.text) continue;
      entry.id = m.id;
      showMessage(entry.node, m, deps.viewer());
      place(entry.node, m.id, m.ts);
      return true;
    }
    return false;
  }

  /** @param {PendingMessage} pending */
  function onPending(pending) {
    let entry = ours.get(pending.clientId);
    if (!entry) {
      const node = messageNode(pending.username, pending.text, true);
      node.classList.add('pending');
      setMessageTime(node, null);
      entry = { node, id: 0 };
      ours.set(pending.clientId, entry);
      log.append(node);
      regroup(node);
      scrollToBottom();
    }
    const { node } = entry;
    if (pending.state === 'sent') {
      ours.delete(pending.clientId);
      node.classList.remove('pending');
      setMessageState(node, '');
      // Already in place: its message frame came first and took over the node.
      if (entry.id !== 0) return;
      const existing = nodes.get(pending.id);
      if (existing && existing !== node) {
        // Its message frame came first and made a node of its own: the placeholder goes.
        const next = node.nextElementSibling;
        node.remove();
        regroup(next);
        return;
      }
      node.dataset.id = String(pending.id);
      nodes.set(pending.id, node);
      insertById(node, pending.id);
    } else if (pending.state === 'failed') {
      ours.delete(pending.clientId);
      node.classList.remove('pending');
      node.classList.add('failed');
      setMessageState(node, `Not sent: ${pending.error}`);
    } else {
      setMessageState(node, PENDING_TEXT[pending.state]);
    }
  }

  /** Empties the log; our unacknowledged messages of the room are shown again, unmatched. */
  function restart() {
    log.replaceChildren();
    nodes.clear();
    for (const entry of ours.values()) {
      entry.id = 0;
      delete entry.node.dataset.id;
    }
    for (const pending of conn.pendingIn(roomId)) {
      const entry = ours.get(pending.clientId);
      if (!entry) continue;
      log.append(entry.node);
      regroup(entry.node);
    }
  }

  /**
   * Scrolls to a message of the log, focuses it and marks it as the one looked for (a search
   * result). @param {number} id @returns {boolean} false: the log does not hold it
   */
  function reveal(id) {
    const node = nodes.get(id);
    if (!node) return false;
    for (const old of log.querySelectorAll('.msg-found')) old.classList.remove('msg-found');
    node.classList.add('msg-found');
    node.tabIndex = -1;
    node.scrollIntoView({ block: 'center' });
    node.focus({ preventScroll: true });
    return true;
  }

  conn.on('room', (room) => {
    roomId = room.roomId;
    restart();
  });
  conn.on('history', ({ messages, reset }) => {
    if (reset) restart();
    for (const m of messages) render(m);
    scrollToBottom();
  });
  conn.on('page', ({ messages }) => messages.forEach(render));
  conn.on('message', render);
  conn.on('update', render);
  conn.on('delete', ({ id }) => remove(id));
  conn.on('pending', onPending);
  return { reveal };
}
