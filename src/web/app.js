// @ts-check
/**
 * The chat page. Plain browser JavaScript, no build step: type-checked by `tsc` through JSDoc.
 *
 * Every piece of user data (names, room names, message text) goes into the page as text
 * (`textContent`), never as markup.
 */

/** @typedef {{ id: number, server_id: number, username: string, text: string, ts: string }} Message */
/** @typedef {{ id: number, name: string, created_at: string }} Room */
/**
 * @typedef {{ type: 'history', messages: Message[], last_id: number, more?: boolean, reset?: boolean }
 *   | { type: 'presence', users: string[] }
 *   | ({ type: 'message' } & Message)
 *   | { type: 'ack', client_id: string | null, id: number }
 *   | { type: 'join' | 'leave', username: string }
 *   | { type: 'presence_diff', joins: string[], leaves: string[] }
 *   | { type: 'typing', username: string }
 *   | { type: 'error', code: string, message: string, client_id?: string }
 *   | { type: 'pong' }} ServerFrame
 */
/**
 * A message of ours the server has not acknowledged yet. It is resent, with the same client_id,
 * after every reconnect until the ack comes: the server makes such resends idempotent. `id` is
 * the id of the message frame its node stands for (0 while none has come).
 * @typedef {{ clientId: string, text: string, roomId: number, node: HTMLElement, id: number, retry: number }} Pending
 */
/** @typedef {'idle' | 'connecting' | 'connected' | 'reconnecting' | 'disconnected'} ConnState */

const NAME_KEY = 'chatroom.name';
const ROOM_KEY = 'chatroom.room';
const MAX_NAME = 32;
const MAX_TEXT = 4000;
const TYPING_SEND_EVERY_MS = 2000;
const TYPING_SHOW_MS = 3000;
const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 10_000;
const RETRY_SEND_MS = 1000;
const PING_EVERY_MS = 25_000;
const PAGE_LIMIT = 1000;
const GROUP_WINDOW_MS = 5 * 60_000;
const AVATAR_HUES = 8;
const CONTROL = /\p{Cc}/u;

// ---------------------------------------------------------------------------------------------
// Elements

/**
 * @template {HTMLElement} T
 * @param {string} id
 * @param {{ new (): T, prototype: T }} type
 * @returns {T}
 */
function byId(id, type) {
  const element = document.getElementById(id);
  if (!(element instanceof type)) throw new Error(`#${id} is missing from the page`);
  return element;
}

const ui = {
  app: byId('app', window.HTMLDivElement),
  nameForm: byId('name-form', window.HTMLFormElement),
  name: byId('name', window.HTMLInputElement),
  nameError: byId('name-error', window.HTMLParagraphElement),
  profileSlot: byId('profile-slot', window.HTMLDivElement),
  welcomeCard: byId('welcome-card', window.HTMLDivElement),
  welcomeRoom: byId('welcome-room', window.HTMLElement),
  rooms: byId('rooms', window.HTMLUListElement),
  createForm: byId('create-room', window.HTMLFormElement),
  roomName: byId('room-name', window.HTMLInputElement),
  createError: byId('create-error', window.HTMLParagraphElement),
  members: byId('members', window.HTMLUListElement),
  memberCount: byId('member-count', window.HTMLSpanElement),
  menuButton: byId('menu-button', window.HTMLButtonElement),
  closeSidebar: byId('close-sidebar', window.HTMLButtonElement),
  roomTitle: byId('room-title', window.HTMLHeadingElement),
  status: byId('status', window.HTMLParagraphElement),
  logWrap: byId('log-wrap', window.HTMLDivElement),
  log: byId('log', window.HTMLDivElement),
  typing: byId('typing', window.HTMLParagraphElement),
  chatError: byId('chat-error', window.HTMLParagraphElement),
  composer: byId('composer', window.HTMLFormElement),
  message: byId('message', window.HTMLTextAreaElement),
};

// ---------------------------------------------------------------------------------------------
// State

/** @type {Room[]} */
let rooms = [];
/** @type {Room | null} */
let room = null;
/** @type {WebSocket | null} */
let socket = null;
/** Bumped whenever a connection is started or dropped: callbacks of older ones are ignored. */
let generation = 0;
/** The history frame arrived on the current socket. */
let joined = false;
/** The name the current connection uses. */
let connectedName = '';
/** Every message of the room with an id up to this one is in the log (`since` on reconnect). */
let position = 0;
/** Older messages are still being paged over REST: live ones must not move `position`. */
let catchingUp = false;
let attempt = 0;
/** @type {number | undefined} */
let reconnectTimer;
/** @type {number | undefined} */
let pingTimer;
let awaitingPong = false;
/** @type {number | undefined} */
let nameTimer;
let lastTypingSent = 0;
/** @type {Map<number, HTMLElement>} */
const messageNodes = new Map();
/** @type {Map<number, Map<string, Pending>>} room id -> client_id -> unacknowledged message */
const pendingByRoom = new Map();
/** @type {Set<string>} */
let members = new Set();
/** @type {Map<string, number>} username -> timer that hides "is typing" */
const typers = new Map();

// ---------------------------------------------------------------------------------------------
// Small helpers

const storage = {
  /** @param {string} key */
  get(key) {
    try {
      return window.localStorage.getItem(key);
    } catch {
      return null;
    }
  },
  /** @param {string} key @param {string} value */
  set(key, value) {
    try {
      window.localStorage.setItem(key, value);
    } catch {
      // Storage may be disabled (private mode, quota): the page works without it.
    }
  },
};

/** @param {string} text */
function codePoints(text) {
  return [...text].length;
}

/**
 * The display name as the server will store it, or null when it would be refused.
 * @param {string} raw
 */
function validName(raw) {
  const name = raw.trim();
  const length = codePoints(name);
  if (length < 1 || length > MAX_NAME || CONTROL.test(name)) return null;
  return name;
}

function newClientId() {
  if (window.isSecureContext && typeof window.crypto.randomUUID === 'function') {
    return window.crypto.randomUUID();
  }
  const bytes = window.crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** @param {unknown} value @returns {value is Record<string, unknown>} */
function isObject(value) {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** @param {unknown} value @returns {value is Room} */
function isRoom(value) {
  return isObject(value) && typeof value.id === 'number' && typeof value.name === 'string';
}

/**
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {string} [className]
 * @param {string} [text]
 * @returns {HTMLElementTagNameMap[K]}
 */
function h(tag, className, text) {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (text !== undefined) element.textContent = text;
  return element;
}

/** A stable colour per name, from a small palette of CSS classes. @param {string} name */
function hueClass(name) {
  let hash = 0;
  for (const char of name) hash = (hash * 31 + (char.codePointAt(0) ?? 0)) >>> 0;
  return `hue-${hash % AVATAR_HUES}`;
}

/** @param {string} name */
function avatar(name) {
  const first = Array.from(name.trim())[0] ?? '?';
  // The initial is drawn by CSS from data-initial, so that it is not part of the log's text.
  const element = h('span', `avatar ${hueClass(name)}`);
  element.dataset.initial = first.toLocaleUpperCase();
  element.setAttribute('aria-hidden', 'true');
  return element;
}

/** @param {Date} date */
function formatTime(date) {
  const now = new Date();
  const sameDay = date.toDateString() === now.toDateString();
  return sameDay
    ? date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
    : date.toLocaleString([], {
        month: 'short',
        day: 'numeric',
        hour: '2-digit',
        minute: '2-digit',
      });
}

/** @param {ConnState} state @param {string} text */
function setStatus(state, text) {
  ui.status.dataset.state = state;
  ui.status.textContent = text;
  ui.app.dataset.connection = state;
}

/** @type {number | undefined} */
let chatErrorTimer;
/** @param {string} text */
function showChatError(text) {
  ui.chatError.textContent = text;
  window.clearTimeout(chatErrorTimer);
  chatErrorTimer = window.setTimeout(() => (ui.chatError.textContent = ''), 8000);
}

/** @param {number} roomId */
function pendingOf(roomId) {
  let map = pendingByRoom.get(roomId);
  if (!map) {
    map = new Map();
    pendingByRoom.set(roomId, map);
  }
  return map;
}

// ---------------------------------------------------------------------------------------------
// The log

function nearBottom() {
  const wrap = ui.logWrap;
  return wrap.scrollHeight - wrap.scrollTop - wrap.clientHeight < 120;
}

function scrollToBottom() {
  ui.logWrap.scrollTop = ui.logWrap.scrollHeight;
}

/**
 * One message as nodes: avatar, author, time, text. All of it text, never markup.
 * @param {string} username
 * @param {string} text
 */
function messageNode(username, text) {
  const node = h('div', 'msg');
  node.dataset.author = username;
  if (username === connectedName) node.classList.add('own');
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

/** @param {HTMLElement} node @param {string | null} ts */
function setMessageTime(node, ts) {
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

/** @param {HTMLElement} node @param {string} text */
function setMessageState(node, text) {
  const state = node.querySelector('.msg-state');
  if (state) state.textContent = text;
}

/** Consecutive messages of one author within a few minutes are shown as one group. */
function regroup(/** @type {Element | null} */ node) {
  if (!(node instanceof window.HTMLElement)) return;
  const prev = node.previousElementSibling;
  const grouped =
    prev instanceof window.HTMLElement &&
    prev.dataset.author === node.dataset.author &&
    !prev.classList.contains('failed') &&
    Math.abs(Number(node.dataset.ts) - Number(prev.dataset.ts)) < GROUP_WINDOW_MS;
  node.classList.toggle('grouped', grouped);
}

/**
 * Puts a message with an id into the log, ordered by id, before our unacknowledged messages.
 * @param {HTMLElement} node
 * @param {number} id
 */
function insertById(node, id) {
  let after = null;
  for (let child = ui.log.lastElementChild; child; child = child.previousElementSibling) {
    if (child instanceof window.HTMLElement && child.dataset.id && Number(child.dataset.id) < id) {
      after = child;
      break;
    }
  }
  const next = node.nextElementSibling;
  if (after) after.after(node);
  else ui.log.prepend(node);
  regroup(node);
  regroup(node.nextElementSibling);
  regroup(next);
}

/** Renders a message once: a message already in the log (by id) is only updated. @param {Message} m */
function renderMessage(m) {
  if (!room || m.server_id !== room.id) return;
  const stick = nearBottom();
  const existing = messageNodes.get(m.id);
  if (existing) {
    // Our own message, placed at its ack before its message frame came.
    setMessageTime(existing, m.ts);
    return;
  }
  if (m.username === connectedName && adoptPending(m)) return;
  const node = messageNode(m.username, m.text);
  node.dataset.id = String(m.id);
  setMessageTime(node, m.ts);
  messageNodes.set(m.id, node);
  insertById(node, m.id);
  if (stick) scrollToBottom();
}

/**
 * Our own message frame usually comes before its ack, which alone carries the client_id: the
 * frame takes over the node of the oldest unmatched pending message with the same text, so that
 * the message is never shown twice. (Two identical texts sent at once from two tabs of the same
 * name may swap nodes; both are still shown once each.)
 * @param {Message} m
 */
function adoptPending(m) {
  if (!room) return false;
  for (const pending of pendingOf(room.id).values()) {
    if (pending.id !== 0 || pending.text !== m.text) continue;
    pending.id = m.id;
    const node = pending.node;
    node.dataset.id = String(m.id);
    setMessageTime(node, m.ts);
    messageNodes.set(m.id, node);
    insertById(node, m.id);
    return true;
  }
  return false;
}

function clearLog() {
  ui.log.replaceChildren();
  messageNodes.clear();
  position = 0;
  // Unacknowledged messages are matched afresh against the messages rendered from now on.
  for (const pendings of pendingByRoom.values()) {
    for (const pending of pendings.values()) {
      pending.id = 0;
      delete pending.node.dataset.id;
    }
  }
}

function renderPendingOfRoom() {
  if (!room) return;
  for (const pending of pendingOf(room.id).values()) {
    ui.log.append(pending.node);
    regroup(pending.node);
  }
}

// ---------------------------------------------------------------------------------------------
// Sending

/** @param {Pending} pending */
function transmit(pending) {
  if (!socket || !joined || !room || pending.roomId !== room.id) return;
  if (socket.readyState !== window.WebSocket.OPEN) return;
  socket.send(JSON.stringify({ type: 'message', text: pending.text, client_id: pending.clientId }));
}

/** @param {string} text */
function sendMessage(text) {
  if (!room) return;
  const pending = {
    clientId: newClientId(),
    text,
    roomId: room.id,
    node: messageNode(connectedName || (validName(ui.name.value) ?? ''), text),
    id: 0,
    retry: 0,
  };
  pending.node.classList.add('own', 'pending');
  setMessageTime(pending.node, null);
  setMessageState(pending.node, joined ? 'Sending…' : 'Waiting for connection…');
  pendingOf(room.id).set(pending.clientId, pending);
  ui.log.append(pending.node);
  regroup(pending.node);
  scrollToBottom();
  transmit(pending);
}

function resendPending() {
  if (!room) return;
  for (const pending of pendingOf(room.id).values()) {
    setMessageState(pending.node, 'Sending…');
    transmit(pending);
  }
}

/** @param {{ client_id: string | null, id: number }} ack */
function onAck(ack) {
  if (!room || ack.client_id === null) return;
  const pendings = pendingOf(room.id);
  const pending = pendings.get(ack.client_id);
  if (!pending) return;
  pendings.delete(ack.client_id);
  window.clearTimeout(pending.retry);
  const node = pending.node;
  node.classList.remove('pending');
  setMessageState(node, '');
  // Already in place: its message frame came first and took over the node.
  if (pending.id !== 0) return;
  const existing = messageNodes.get(ack.id);
  if (existing && existing !== node) {
    // Its message frame came first: that one stays, the placeholder goes.
    const next = node.nextElementSibling;
    node.remove();
    regroup(next);
    return;
  }
  node.dataset.id = String(ack.id);
  messageNodes.set(ack.id, node);
  insertById(node, ack.id);
}

/** @param {{ code: string, message: string, client_id?: string }} error */
function onError(error) {
  const pending = room && error.client_id ? pendingOf(room.id).get(error.client_id) : undefined;
  if (!pending || !room) {
    showChatError(error.message);
    return;
  }
  if (error.code === 'unavailable' || error.code === 'rate_limited') {
    // Not confirmed: retry with the same client_id, which the server makes idempotent.
    setMessageState(pending.node, 'Retrying…');
    if (error.code === 'unavailable') showChatError(error.message);
    window.clearTimeout(pending.retry);
    pending.retry = window.setTimeout(() => transmit(pending), RETRY_SEND_MS);
    return;
  }
  pendingOf(room.id).delete(pending.clientId);
  pending.node.classList.remove('pending');
  pending.node.classList.add('failed');
  setMessageState(pending.node, `Not sent: ${error.message}`);
  showChatError(error.message);
}

// ---------------------------------------------------------------------------------------------
// Presence and typing

function renderMembers() {
  const sorted = [...members].sort((a, b) => a.localeCompare(b));
  ui.members.replaceChildren(
    ...sorted.map((name) => {
      const item = h('li', 'member');
      item.append(avatar(name), h('span', 'member-name', name));
      if (name === connectedName) item.append(h('span', 'member-you', '(you)'));
      return item;
    }),
  );
  ui.memberCount.textContent = members.size ? String(members.size) : '';
}

function renderTyping() {
  const names = [...typers.keys()];
  let text = '';
  if (names.length === 1) text = `${names[0] ?? ''} is typing…`;
  else if (names.length === 2) text = `${names[0] ?? ''} and ${names[1] ?? ''} are typing…`;
  else if (names.length > 2) text = 'Several people are typing…';
  ui.typing.textContent = text;
}

/** @param {string} username */
function stopTyping(username) {
  const timer = typers.get(username);
  if (timer === undefined) return;
  window.clearTimeout(timer);
  typers.delete(username);
  renderTyping();
}

/** @param {string} username */
function showTyping(username) {
  if (username === connectedName) return;
  window.clearTimeout(typers.get(username));
  typers.set(
    username,
    window.setTimeout(() => stopTyping(username), TYPING_SHOW_MS),
  );
  renderTyping();
}

function clearTyping() {
  for (const timer of typers.values()) window.clearTimeout(timer);
  typers.clear();
  renderTyping();
}

// ---------------------------------------------------------------------------------------------
// The connection

/** Fetches the messages a `history` frame with `more` left out, up to `lastId`. */
async function pageRest(/** @type {number} */ gen, /** @type {number} */ lastId) {
  if (!room) return;
  const roomId = room.id;
  let after = position;
  try {
    while (after < lastId) {
      const response = await window.fetch(
        `/api/servers/${roomId}/messages?after=${after}&limit=${PAGE_LIMIT}`,
      );
      if (gen !== generation) return;
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      /** @type {unknown} */
      const page = await response.json();
      if (gen !== generation) return;
      if (!Array.isArray(page) || page.length === 0) break;
      for (const m of /** @type {Message[]} */ (page)) renderMessage(m);
      after = Math.max(after, .../** @type {Message[]} */ (page).map((m) => m.id));
      position = after;
    }
    catchingUp = false;
    position = Math.max(position, lastId, ...messageNodes.keys());
  } catch {
    if (gen !== generation) return;
    // Reconnect from where the log is complete; the server sends the rest.
    dropConnection();
    scheduleReconnect();
  }
}

/** @param {ServerFrame} frame @param {number} gen */
function onFrame(frame, gen) {
  switch (frame.type) {
    case 'history': {
      if (frame.reset) {
        // The server lost what we had: start over from what it has now.
        clearLog();
        renderPendingOfRoom();
      }
      for (const m of frame.messages) renderMessage(m);
      const newest = frame.messages.reduce((max, m) => Math.max(max, m.id), 0);
      joined = true;
      attempt = 0;
      if (frame.more) {
        catchingUp = true;
        position = Math.max(position, newest);
        void pageRest(gen, frame.last_id);
      } else {
        catchingUp = false;
        position = Math.max(position, newest, frame.last_id);
      }
      setStatus('connected', `Connected to #${room?.name ?? ''}`);
      ui.app.classList.remove('offline');
      scrollToBottom();
      resendPending();
      void loadRooms();
      return;
    }
    case 'presence':
      members = new Set(frame.users);
      renderMembers();
      return;
    case 'message':
      stopTyping(frame.username);
      renderMessage(frame);
      if (!catchingUp) position = Math.max(position, frame.id);
      return;
    case 'ack':
      onAck(frame);
      return;
    case 'join':
      members.add(frame.username);
      renderMembers();
      return;
    case 'leave':
      members.delete(frame.username);
      stopTyping(frame.username);
      renderMembers();
      return;
    case 'presence_diff':
      for (const name of frame.joins) members.add(name);
      for (const name of frame.leaves) members.delete(name);
      renderMembers();
      return;
    case 'typing':
      showTyping(frame.username);
      return;
    case 'error':
      onError(frame);
      return;
    case 'pong':
      awaitingPong = false;
      return;
  }
}

function stopTimers() {
  window.clearTimeout(reconnectTimer);
  reconnectTimer = undefined;
  window.clearInterval(pingTimer);
  pingTimer = undefined;
  awaitingPong = false;
}

/** Forgets the current socket (its events are ignored from now on) and closes it. */
function dropConnection() {
  generation++;
  stopTimers();
  joined = false;
  catchingUp = false;
  clearTyping();
  ui.app.classList.add('offline');
  const old = socket;
  socket = null;
  if (old && old.readyState <= window.WebSocket.OPEN) old.close(1000, 'bye');
}

function scheduleReconnect() {
  window.clearTimeout(reconnectTimer);
  const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** attempt);
  const delay = base / 2 + Math.random() * (base / 2);
  attempt++;
  setStatus('reconnecting', 'Reconnecting…');
  reconnectTimer = window.setTimeout(() => connect(), delay);
}

/** Opens the WebSocket of the current room, continuing after `position` when there is one. */
function connect() {
  dropConnection();
  if (!room) return;
  const name = validName(ui.name.value);
  if (!name) {
    setStatus('idle', 'Enter a name to join the chat');
    return;
  }
  const gen = generation;
  connectedName = name;
  renderMembers();
  const params = new window.URLSearchParams({ username: name });
  if (position > 0) params.set('since', String(position));
  const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws';
  const ws = new window.WebSocket(`${scheme}://${window.location.host}/ws/${room.id}?${params}`);
  socket = ws;
  setStatus(
    attempt > 0 ? 'reconnecting' : 'connecting',
    attempt > 0 ? 'Reconnecting…' : 'Connecting…',
  );

  ws.addEventListener('message', (event) => {
    if (gen !== generation) return;
    /** @type {unknown} */
    const data = event.data;
    if (typeof data !== 'string') return;
    /** @type {unknown} */
    let frame;
    try {
      frame = JSON.parse(data);
    } catch {
      return;
    }
    if (!isObject(frame) || typeof frame.type !== 'string') return;
    onFrame(/** @type {ServerFrame} */ (frame), gen);
  });

  ws.addEventListener('open', () => {
    if (gen !== generation) return;
    pingTimer = window.setInterval(() => {
      if (gen !== generation) return;
      if (awaitingPong) {
        // No answer for a whole interval: the connection is dead even if the browser thinks not.
        dropConnection();
        scheduleReconnect();
        return;
      }
      awaitingPong = true;
      ws.send(JSON.stringify({ type: 'ping' }));
    }, PING_EVERY_MS);
  });

  ws.addEventListener('close', (event) => {
    if (gen !== generation) return;
    dropConnection();
    const roomName = room ? `#${room.name}` : 'this room';
    switch (event.code) {
      case 4404:
        setStatus('disconnected', `Disconnected: ${roomName} does not exist (any more)`);
        void loadRooms();
        return;
      case 4400:
        setStatus('disconnected', 'Disconnected: the server refused this name');
        askForName(true);
        ui.nameError.textContent =
          event.reason ||
          'This name was refused. A name has 1–32 characters, no control characters.';
        return;
      default:
        // 1001 going away, 1013 try again later, 4408 too slow, 1006 network: come back with since.
        scheduleReconnect();
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Rooms

function renderRooms() {
  ui.rooms.replaceChildren(
    ...rooms.map((r) => {
      const item = h('li');
      const button = h('button', 'room-button');
      button.type = 'button';
      const hash = h('span', 'room-hash', '#');
      hash.setAttribute('aria-hidden', 'true');
      button.append(hash, h('span', 'room-label', r.name));
      if (room && r.id === room.id) button.setAttribute('aria-current', 'page');
      button.addEventListener('click', () => selectRoom(r));
      item.append(button);
      return item;
    }),
  );
}

async function loadRooms() {
  try {
    const response = await window.fetch('/api/servers');
    if (!response.ok) return false;
    /** @type {unknown} */
    const list = await response.json();
    if (!Array.isArray(list)) return false;
    rooms = list.filter(isRoom);
    renderRooms();
    return true;
  } catch {
    return false;
  }
}

/** @param {Room} next */
function selectRoom(next) {
  if (ui.app.classList.contains('sidebar-open')) setSidebarOpen(false);
  if (room && room.id === next.id && socket) return;
  dropConnection();
  room = next;
  attempt = 0;
  storage.set(ROOM_KEY, String(next.id));
  clearLog();
  members = new Set();
  renderMembers();
  renderRooms();
  ui.roomTitle.textContent = next.name;
  ui.welcomeRoom.textContent = `#${next.name}`;
  ui.message.placeholder = `Message #${next.name}`;
  document.title = `#${next.name} · chatroom`;
  renderPendingOfRoom();
  connect();
}

async function createRoom() {
  const name = ui.roomName.value.trim();
  ui.createError.textContent = '';
  if (!name) {
    ui.createError.textContent = 'Enter a name for the new room.';
    ui.roomName.focus();
    return;
  }
  try {
    const response = await window.fetch('/api/servers', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name }),
    });
    /** @type {unknown} */
    const body = await response.json().catch(() => null);
    if (!response.ok || !isObject(body)) {
      const message =
        isObject(body) && typeof body.message === 'string'
          ? body.message
          : `Could not create the room (HTTP ${response.status})`;
      ui.createError.textContent = message;
      return;
    }
    if (!isRoom(body)) return;
    const created = body;
    ui.roomName.value = '';
    if (!rooms.some((r) => r.id === created.id)) rooms.push(created);
    selectRoom(created);
    void loadRooms();
  } catch {
    ui.createError.textContent = 'Could not reach the server. Try again.';
  }
}

// ---------------------------------------------------------------------------------------------
// The name

/**
 * Until the page has a name it asks for one on a screen of its own, in place of the
 * conversation: on a phone that is the first thing shown, with no menu to open. The one name
 * form moves there and back to the sidebar, where the name can be changed later.
 * @param {boolean} asking
 */
function askForName(asking) {
  if (asking === ui.app.classList.contains('asking')) return;
  if (asking) setSidebarOpen(false);
  ui.app.classList.toggle('asking', asking);
  (asking ? ui.welcomeCard : ui.profileSlot).append(ui.nameForm);
}

/** Connects (or reconnects) with the name in the field, or says what is wrong with it. */
function applyName() {
  window.clearTimeout(nameTimer);
  const raw = ui.name.value;
  const name = validName(raw);
  if (!name) {
    ui.nameError.textContent = raw.trim()
      ? 'A name has 1–32 characters and no control characters.'
      : 'Enter a name to join the chat.';
    if (socket || reconnectTimer !== undefined) dropConnection();
    setStatus('idle', 'Enter a name to join the chat');
    return false;
  }
  ui.nameError.textContent = '';
  if (name === connectedName && (socket || reconnectTimer !== undefined)) return true;
  attempt = 0;
  connect();
  return true;
}

// ---------------------------------------------------------------------------------------------
// Wiring

ui.nameForm.addEventListener('submit', (event) => {
  event.preventDefault();
  if (!applyName()) {
    ui.name.focus();
    return;
  }
  askForName(false);
  ui.message.focus();
});
// Enter submits without relying on implicit submission (the Join button is hidden in the sidebar).
ui.name.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.isComposing) {
    event.preventDefault();
    ui.nameForm.requestSubmit();
  }
});
ui.name.addEventListener('input', () => {
  storage.set(NAME_KEY, ui.name.value.trim());
  ui.nameError.textContent = '';
  window.clearTimeout(nameTimer);
  // On the welcome screen only Enter or Join joins: no half-typed name joins on a pause.
  if (!ui.app.classList.contains('asking')) nameTimer = window.setTimeout(applyName, 800);
});
ui.name.addEventListener('change', () => {
  if (ui.app.classList.contains('asking')) return;
  // Left without a usable name: ask for one where it can be seen, not in a closed menu.
  if (!applyName()) askForName(true);
});

ui.createForm.addEventListener('submit', (event) => {
  event.preventDefault();
  void createRoom();
});

ui.composer.addEventListener('submit', (event) => {
  event.preventDefault();
  const text = ui.message.value;
  if (!text.trim()) return;
  if (validName(ui.name.value) !== connectedName || (!socket && reconnectTimer === undefined)) {
    if (!applyName()) {
      askForName(true);
      ui.name.focus();
      return;
    }
  }
  if (!room) {
    showChatError('Pick a room first.');
    return;
  }
  if (codePoints(text) > MAX_TEXT) {
    showChatError(`A message has at most ${MAX_TEXT} characters.`);
    return;
  }
  sendMessage(text);
  ui.message.value = '';
  lastTypingSent = 0;
  ui.message.focus();
});

ui.message.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    ui.composer.requestSubmit();
  }
});

ui.message.addEventListener('input', () => {
  const now = Date.now();
  if (!ui.message.value.trim() || !joined || !socket) return;
  if (now - lastTypingSent < TYPING_SEND_EVERY_MS) return;
  lastTypingSent = now;
  socket.send(JSON.stringify({ type: 'typing' }));
});

/** The sidebar is a panel of its own on small screens. @param {boolean} open */
function setSidebarOpen(open) {
  const wasOpen = ui.app.classList.contains('sidebar-open');
  ui.app.classList.toggle('sidebar-open', open);
  ui.menuButton.setAttribute('aria-expanded', String(open));
  if (open && !wasOpen) ui.closeSidebar.focus();
  if (!open && wasOpen) ui.menuButton.focus();
}

ui.menuButton.addEventListener('click', () => setSidebarOpen(true));
// A tap on the dimmed chat beside the open panel (drawn on the app itself) closes it.
ui.app.addEventListener('click', (event) => {
  if (event.target === ui.app) setSidebarOpen(false);
});
ui.closeSidebar.addEventListener('click', () => setSidebarOpen(false));
document.addEventListener('keydown', (event) => {
  if (event.key === 'Escape' && ui.app.classList.contains('sidebar-open')) setSidebarOpen(false);
});

window.addEventListener('online', () => {
  if (reconnectTimer !== undefined) {
    attempt = 0;
    connect();
  }
});
window.addEventListener('focus', () => void loadRooms());

async function start() {
  ui.name.value = storage.get(NAME_KEY) ?? '';
  if (validName(ui.name.value)) askForName(false);
  else ui.name.focus();
  setStatus('connecting', 'Loading rooms…');
  while (!(await loadRooms())) {
    setStatus('reconnecting', 'Cannot reach the server, retrying…');
    await new Promise((resolve) => window.setTimeout(resolve, 2000));
  }
  const remembered = Number(storage.get(ROOM_KEY));
  const first = rooms.find((r) => r.id === remembered) ?? rooms[0];
  if (!first) {
    setStatus('idle', 'No rooms yet: create one');
    return;
  }
  selectRoom(first);
  if (validName(ui.name.value)) ui.message.focus();
}

void start();
