// @ts-check
/**
 * Who you are, in accounts and JWT mode: until the page has a session it asks on the welcome
 * screen, in place of the conversation (on a phone the first thing shown, no menu to open). The
 * accounts form signs in or creates an account (`/?invite=CODE` brings the invite); JWT mode
 * takes the operator's token from `/#access_token=JWT`. A session that ends (401, close 4401)
 * brings the form back with a word why.
 */
import * as accounts from './accounts-api.js';
import { onUnauthenticated } from './api.js';
import { byId } from './dom.js';
import { CLOSE } from './protocol.js';

/** @typedef {import('./connection.js').ChatConnection} ChatConnection */
/** @typedef {import('./accounts-api.js').User} User */
/** @typedef {'accounts' | 'jwt'} SignInMode */

const SESSION_ENDED = 'Your session ended; sign in again.';
const JWT_NEEDED =
  'This chat needs a sign-in link from the site that sent you here. Open the chat from there.';

/**
 * @typedef {object} SignInDeps
 * @property {SignInMode} mode
 * @property {boolean} firstAccount the server has no account yet: the first becomes the admin
 * @property {ReturnType<typeof import('./status.js').createStatus>} status
 * @property {ReturnType<typeof import('./sidebar.js').createSidebar>} sidebar
 * @property {(user: User) => void} signedIn a session began (the form, the cookie, a JWT)
 * @property {() => void} signedOut the session ended: the chat stops
 */

/** @param {ChatConnection} conn @param {SignInDeps} deps */
export function createSignIn(conn, deps) {
  const app = byId('app', window.HTMLDivElement);
  const card = byId('sign-in-card', window.HTMLDivElement);
  const title = byId('sign-in-title', window.HTMLHeadingElement);
  const text = byId('sign-in-text', window.HTMLParagraphElement);
  const form = byId('sign-in-form', window.HTMLFormElement);
  const usernameField = byId('username', window.HTMLInputElement);
  const passwordField = byId('password', window.HTMLInputElement);
  const inviteHint = byId('invite-hint', window.HTMLParagraphElement);
  const error = byId('sign-in-error', window.HTMLParagraphElement);
  const createButton = byId('create-account', window.HTMLButtonElement);
  const invite = new URLSearchParams(window.location.search).get('invite') ?? '';
  /** @type {User | null} */
  let user = null;
  let busy = false;

  // The name form of open mode does not exist here: the username is the account's.
  byId('welcome-card', window.HTMLDivElement).remove();
  card.hidden = false;
  if (deps.mode === 'jwt') {
    form.hidden = true;
    title.textContent = 'Sign-in needed';
    text.textContent = JWT_NEEDED;
  } else if (deps.firstAccount) {
    text.textContent =
      'This server has no accounts yet: "Create account" creates the first one, the admin account.';
  } else if (invite) {
    text.textContent = 'You were invited: choose a username and a password, then "Create account".';
  }
  if (invite) {
    inviteHint.hidden = false;
    inviteHint.textContent = 'Your invite is filled in: "Create account" uses it.';
  }

  /** Shows the form (the chat hidden), with a message in the alert when there is one. */
  function ask(/** @type {string} */ message = '') {
    deps.sidebar.setOpen(false);
    app.classList.add('asking');
    error.textContent = message;
    deps.status.set('idle', deps.mode === 'jwt' ? 'Not signed in' : 'Sign in to chat');
    if (deps.mode === 'accounts') usernameField.focus();
  }

  /** @param {User} next */
  function enter(next) {
    user = next;
    error.textContent = '';
    passwordField.value = '';
    app.classList.remove('asking');
    deps.signedIn(next);
  }

  /** The session ended while signed in (401, 4401): back to the form. */
  function ended(/** @type {string} */ message) {
    if (!user) return;
    user = null;
    conn.leave();
    deps.signedOut();
    ask(message);
  }

  /** @param {'login' | 'register'} how */
  async function submit(how) {
    if (busy) return;
    const username = usernameField.value.trim();
    const password = passwordField.value;
    if (!username || !password) {
      error.textContent = 'Enter a username and a password.';
      (username ? passwordField : usernameField).focus();
      return;
    }
    busy = true;
    error.textContent = '';
    const result =
      how === 'login'
        ? await accounts.login(username, password)
        : await accounts.register(username, password, invite);
    busy = false;
    if ('error' in result) {
      error.textContent = result.error;
      return;
    }
    // Later visits and reloads need no invite.
    if (invite) window.history.replaceState(null, '', window.location.pathname);
    enter(result.user);
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void submit('login');
  });
  createButton.addEventListener('click', () => void submit('register'));
  onUnauthenticated(() => ended(SESSION_ENDED));
  // 4403 and 4404 are about the room (rooms.js); 4401 about the session.
  conn.on('close', ({ code }) => {
    if (code === CLOSE.unauthenticated) ended(SESSION_ENDED);
  });

  /** JWT mode: `/#access_token=JWT` becomes a session cookie; the token leaves the address. */
  async function takeJwt() {
    const hash = new URLSearchParams(window.location.hash.slice(1));
    const jwt = hash.get('access_token');
    if (!jwt) return undefined;
    window.history.replaceState(null, '', window.location.pathname + window.location.search);
    const answer = await accounts.startJwtSession(jwt);
    return answer.ok ? undefined : answer.message;
  }

  /** Joins the selected room as the signed-in user. */
  function connect() {
    if (user && conn.roomId !== null) conn.connect(user.username);
  }

  return {
    connect,
    /** The signed-in user, or null. */
    user: () => user,
    /**
     * Resumes the session the browser has, or asks. Resolves false when the server cannot be
     * reached (the caller tries again).
     */
    start: async () => {
      const refused = deps.mode === 'jwt' ? await takeJwt() : undefined;
      const result = await accounts.me();
      if ('user' in result) enter(result.user);
      else if (result.status === 0) return false;
      else ask(refused ? `The sign-in link was refused: ${refused}` : '');
      return true;
    },
    /** Sign out: ends the session on the server, then asks again. */
    signOut: async () => {
      if (!user) return;
      user = null;
      conn.leave();
      deps.signedOut();
      await accounts.logout();
      ask(deps.mode === 'jwt' ? 'You signed out.' : '');
    },
    /** Before sending: joined, or (re)joining now; false when signed out. */
    ensureJoined: () => {
      if (!user) return false;
      // Closed for good: removed from the room, or it is gone (rooms.js said so).
      if (conn.state === 'closed') {
        deps.status.showError('You cannot write here any more: pick a room.');
        return false;
      }
      if (conn.state === 'idle') connect();
      return true;
    },
  };
}
