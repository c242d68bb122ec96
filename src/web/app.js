// @ts-check
/**
 * The chat page: plain browser ES modules, no build step, type-checked by `tsc` through JSDoc.
 * This module only wires the others to one connection (connection.js, no DOM) and starts.
 */
import * as api from './api.js';
import { ChatConnection } from './connection.js';
import { createComposer } from './composer.js';
import { createLog } from './log.js';
import { createMembers } from './members.js';
import { createNameForm } from './name.js';
import { DEFAULT_CONFIG } from './protocol.js';
import { createRooms } from './rooms.js';
import { createSidebar } from './sidebar.js';
import { createStatus } from './status.js';
import { createTypingIndicator } from './typing.js';

/** How long to wait before asking an unreachable server again, at start. */
const START_RETRY_MS = 2000;

/** What the page learns from the server at start. */
const server = { config: /** @type {import('./protocol.js').ClientConfig} */ (DEFAULT_CONFIG) };
const config = () => server.config;

const conn = new ChatConnection({ url: window.location.origin, WebSocket: window.WebSocket });
const sidebar = createSidebar();
const status = createStatus(conn, () => rooms.current()?.name ?? '');
createLog(conn);
createMembers(conn);
createTypingIndicator(conn);
const composer = createComposer(conn, {
  config,
  ensureJoined: () => name.ensureJoined(),
  showError: status.showError,
});
const name = createNameForm(conn, { status, sidebar, config, joined: composer.focus });
const rooms = createRooms(conn, {
  status,
  sidebar,
  connect: name.connect,
  shown(room) {
    name.shown(room);
    composer.shown(room);
  },
});

window.addEventListener('online', () => conn.retryNow());

async function start() {
  name.start();
  status.set('connecting', 'Loading rooms…');
  for (;;) {
    const loaded = await api.fetchConfig();
    if (loaded && (await rooms.load())) {
      server.config = loaded;
      break;
    }
    status.set('reconnecting', 'Cannot reach the server, retrying…');
    await new Promise((resolve) => window.setTimeout(resolve, START_RETRY_MS));
  }
  name.configured();
  const first = rooms.remembered();
  if (!first) {
    status.set('idle', 'No rooms yet: create one');
    return;
  }
  rooms.select(first);
  if (name.named()) composer.focus();
}

void start();
