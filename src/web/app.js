// @ts-check
/**
 * The chat page: plain browser ES modules, no build step, type-checked by `tsc` through JSDoc.
 * This module only wires the others to one connection (connection.js, no DOM) and starts.
 */
import { createAccountPanel } from './account.js';
import { createAttachments } from './attach.js';
import * as api from './api.js';
import { createSignIn } from './auth.js';
import { ChatConnection } from './connection.js';
import { createComposer } from './composer.js';
import { createDirectMessages } from './direct-messages.js';
import { createJump } from './jump.js';
import { createLog } from './log.js';
import { createMarkRead } from './mark-read.js';
import { createMessageActions } from './message-actions.js';
import { createMembers } from './members.js';
import { createNameForm } from './name.js';
import { createNewMessages } from './new-messages.js';
import { createNotifications } from './notifications.js';
import { createReply } from './reply.js';
import { DEFAULT_CONFIG } from './protocol.js';
import { createRoomMembers } from './room-members.js';
import { createRooms } from './rooms.js';
import { createSearch } from './search.js';
import { createSidebar } from './sidebar.js';
import { createStatus } from './status.js';
import { createTypingIndicator } from './typing.js';
import { createUnreadBadges } from './unread-badges.js';

/** How long to wait before asking an unreachable server again, at start. */
const START_RETRY_MS = 2000;

/** What the page learns from the server at start. */
const server = { config: /** @type {import('./protocol.js').ClientConfig} */ (DEFAULT_CONFIG) };
const config = () => server.config;

/** How one signs in, as the page's `<meta name="chatroom-auth">` says (routes/web.ts). */
function metaContent(/** @type {string} */ name) {
  return document.querySelector(`meta[name="${name}"]`)?.getAttribute('content') ?? '';
}
const authMode = metaContent('chatroom-auth');
const mode = authMode === 'accounts' || authMode === 'jwt' ? authMode : 'open';

/** Accounts and JWT mode: private rooms and direct messages exist. */
const accounts = mode !== 'open';
const conn = new ChatConnection({ url: window.location.origin, WebSocket: window.WebSocket });
const sidebar = createSidebar();
const status = createStatus(conn, () => rooms.title());
/** The page's own username: the account's, or the display name joined with (open mode). */
const me = () => who.user()?.username ?? conn.username;
/** Admins and the owner of the room shown may delete any message of it. */
function moderator() {
  const user = who.user();
  const room = rooms.current();
  return user !== null && (user.admin || (room?.owner != null && room.owner === user.username));
}
const log = createLog(conn, { viewer: () => ({ me: me(), moderator: moderator() }) });
const badges = createUnreadBadges(conn);
// after the log: the separator goes among the messages it has just shown
createNewMessages(conn, { lastRead: badges.lastRead });
createMarkRead(conn);
/** Open mode: the counts and levels are those of the name the page chats under. */
const readerQuery = () => (mode === 'open' && me() ? `?username=${encodeURIComponent(me())}` : '');
const reply = createReply(conn);
createMessageActions(conn, { me, reply: (id) => reply.start(id) });
const members = createMembers(conn, {
  messaging: accounts,
  me,
  message: (username) => void directMessages.openWith(username),
  remove: (username) => void roomMembers.remove(username),
});
createTypingIndicator(conn);
const composer = createComposer(conn, {
  config,
  ensureJoined: () => who.ensureJoined(),
  showError: status.showError,
  reply,
  attachments: createAttachments(),
});
/** Who is chatting: the display name (open mode), or the signed-in account. */
const who = mode === 'open' ? openMode() : signInMode(mode);
const directMessages = createDirectMessages({
  accounts,
  me,
  select: (room) => rooms.select(room),
  open: (room) => rooms.open(room),
  showError: status.showError,
  decorate: badges.decorate,
});
const rooms = createRooms(conn, {
  status,
  sidebar,
  accounts,
  me,
  chatting: () => who.chatting(),
  connect: () => who.connect(),
  listed: (dms, current) => directMessages.render(dms, current),
  readerQuery,
  decorate: badges.decorate,
  counted: badges.listed,
  titled: badges.title,
  shown(room, title) {
    who.shown(title);
    composer.shown(title);
    roomMembers.shown(room);
    notifications.shown(room);
  },
});
const jump = createJump(conn, {
  select: (roomId) => rooms.openById(roomId),
  reveal: log.reveal,
  showError: status.showError,
});
createSearch({
  roomLabel: (room) => rooms.label(room),
  open: (roomId, id) => void jump.open(roomId, id),
});
const notifications = createNotifications(conn, {
  room: (id) => rooms.byId(id),
  readerQuery,
  openAt: (roomId, id) => void jump.open(roomId, id),
  showError: status.showError,
});
const roomMembers = createRoomMembers(conn, {
  user: () => who.user(),
  room: rooms.current,
  members,
});

window.addEventListener('online', () => conn.retryNow());

function openMode() {
  const name = createNameForm(conn, { status, sidebar, config, joined: composer.focus });
  return {
    ...name,
    /** Open mode has no accounts. */
    user: () => null,
    /** Open mode has no sessions: it is always "signed in". */
    chatting: () => true,
    async start() {
      name.start();
      await enterChat();
    },
  };
}

/** @param {'accounts' | 'jwt'} signInWith */
function signInMode(signInWith) {
  const panel = createAccountPanel({ mode: signInWith, signOut: () => signIn.signOut() });
  const signIn = createSignIn(conn, {
    mode: signInWith,
    firstAccount: metaContent('chatroom-first-account') === 'true',
    status,
    sidebar,
    signedIn(user) {
      panel.show(user);
      void enterChat();
    },
    signedOut: () => panel.hide(),
  });
  return {
    connect: signIn.connect,
    ensureJoined: () => signIn.ensureJoined(),
    shown: () => undefined,
    configured: () => undefined,
    user: signIn.user,
    named: () => signIn.user() !== null,
    chatting: () => signIn.user() !== null,
    async start() {
      while (!(await signIn.start())) await unreachable();
    },
  };
}

async function unreachable() {
  status.set('reconnecting', 'Cannot reach the server, retrying…');
  await new Promise((resolve) => window.setTimeout(resolve, START_RETRY_MS));
}

/** Loads the server's limits and the rooms, then opens the room last open here. */
async function enterChat() {
  status.set('connecting', 'Loading rooms…');
  for (;;) {
    const loaded = await api.fetchConfig();
    if (loaded && (await rooms.load())) {
      server.config = loaded;
      break;
    }
    // signed out meanwhile (a 401): the sign-in form is shown instead
    if (!who.chatting()) return;
    await unreachable();
  }
  if (!who.chatting()) return;
  who.configured();
  const first = rooms.remembered();
  if (!first) {
    status.set('idle', 'No rooms yet: create one');
    return;
  }
  rooms.select(first);
  if (who.named()) composer.focus();
}

void who.start();
