// @ts-check
/**
 * The display name. Until the page has one it asks for it on a welcome screen of its own, in
 * place of the conversation: on a phone that is the first thing shown, with no menu to open.
 * The one name form moves there and back to the sidebar, where the name can be changed later
 * (Enter, or leaving the field, applies it). The browser remembers it.
 */
import { byId, storage } from './dom.js';
import { CLOSE, validName } from './protocol.js';

/** @typedef {import('./connection.js').ChatConnection} ChatConnection */
/** @typedef {import('./protocol.js').ClientConfig} ClientConfig */

const NAME_KEY = 'chatroom.name';
/** In the sidebar a pause in typing applies the name. */
const APPLY_AFTER_MS = 800;

/**
 * @typedef {object} NameDeps
 * @property {ReturnType<typeof import('./status.js').createStatus>} status
 * @property {ReturnType<typeof import('./sidebar.js').createSidebar>} sidebar
 * @property {() => ClientConfig} config
 * @property {() => void} joined the name was taken from the welcome screen: on to the chat
 */

/** @param {ChatConnection} conn @param {NameDeps} deps */
export function createNameForm(conn, deps) {
  const app = byId('app', window.HTMLDivElement);
  const form = byId('name-form', window.HTMLFormElement);
  const field = byId('name', window.HTMLInputElement);
  const error = byId('name-error', window.HTMLParagraphElement);
  const hint = byId('name-hint', window.HTMLParagraphElement);
  const profileSlot = byId('profile-slot', window.HTMLDivElement);
  const welcomeCard = byId('welcome-card', window.HTMLDivElement);
  const welcomeRoom = byId('welcome-room', window.HTMLElement);
  /** @type {number | undefined} */
  let applyTimer;

  const asking = () => app.classList.contains('asking');
  const active = () => ['connecting', 'connected', 'reconnecting'].includes(conn.state);
  const maxChars = () => deps.config().max_username_chars;
  /** The name in the field as the server will store it, or null when it would be refused. */
  const name = () => validName(field.value, maxChars());

  /** Asks for the name on the welcome screen, or stops asking. @param {boolean} ask */
  function askForName(ask) {
    if (ask === asking()) return;
    if (ask) deps.sidebar.setOpen(false);
    app.classList.toggle('asking', ask);
    (ask ? welcomeCard : profileSlot).append(form);
  }

  /** Joins the selected room under the name in the field, or says a name is needed. */
  function connect() {
    const valid = name();
    if (valid && conn.roomId !== null) conn.connect(valid);
    else if (!valid) deps.status.set('idle', 'Enter a name to join the chat');
  }

  /** Connects (or reconnects) with the name in the field, or says what is wrong with it. */
  function apply() {
    window.clearTimeout(applyTimer);
    const valid = name();
    if (!valid) {
      error.textContent = field.value.trim()
        ? `A name has 1–${maxChars()} characters and no control or invisible characters.`
        : 'Enter a name to join the chat.';
      if (active()) conn.leave();
      deps.status.set('idle', 'Enter a name to join the chat');
      return false;
    }
    error.textContent = '';
    if (valid === conn.username && active()) return true;
    connect();
    return true;
  }

  /** Before sending: joined under the name in the field, or asking for one. */
  function ensureJoined() {
    if ((name() === conn.username && active()) || apply()) return true;
    askForName(true);
    field.focus();
    return false;
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (!apply()) {
      field.focus();
      return;
    }
    askForName(false);
    deps.joined();
  });
  // Enter submits without relying on implicit submission (the Join button is hidden in the sidebar).
  field.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  field.addEventListener('input', () => {
    storage.set(NAME_KEY, field.value.trim());
    error.textContent = '';
    window.clearTimeout(applyTimer);
    // On the welcome screen only Enter or Join joins: no half-typed name joins on a pause.
    if (!asking()) applyTimer = window.setTimeout(apply, APPLY_AFTER_MS);
  });
  field.addEventListener('change', () => {
    if (asking()) return;
    // Left without a usable name: ask for one where it can be seen, not in a closed menu.
    if (!apply()) askForName(true);
  });
  conn.on('close', ({ code, reason }) => {
    if (code !== CLOSE.badRequest) return;
    deps.status.set('disconnected', 'Disconnected: the server refused this name');
    askForName(true);
    error.textContent =
      reason ||
      `This name was refused. A name has 1–${maxChars()} characters, no control or invisible characters.`;
  });

  return {
    askForName,
    connect,
    ensureJoined,
    /** Whether the field holds a usable name. */
    named: () => name() !== null,
    /** Fills the field with the remembered name; asks for one when there is none. */
    start() {
      field.value = storage.get(NAME_KEY) ?? '';
      if (name()) askForName(false);
      else field.focus();
    },
    /** The server's limits arrived: the hint says them. */
    configured() {
      hint.textContent = `1–${maxChars()} characters, shown next to your messages.`;
    },
    /** Another room is shown, named `title` ("#general"). @param {string} title */
    shown(title) {
      welcomeRoom.textContent = title;
    },
  };
}
