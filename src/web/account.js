// @ts-check
/**
 * The account panel in the sidebar, once signed in: who you are, "Sign out", for admins
 * "Invite" (a link `/?invite=CODE` to copy), and in accounts mode the personal access tokens
 * (made with a name, shown once with a copy button, listed, revoked) and a password change.
 */
import * as accounts from './accounts-api.js';
import { byId, h } from './dom.js';

/** @typedef {import('./accounts-api.js').User} User */

/**
 * @typedef {object} AccountDeps
 * @property {'accounts' | 'jwt'} mode
 * @property {() => Promise<void>} signOut
 */

/** Copies a field's text, selecting it first so that it can be copied by hand too. */
async function copy(
  /** @type {HTMLInputElement} */ field,
  /** @type {HTMLButtonElement} */ button,
) {
  field.select();
  try {
    await window.navigator.clipboard.writeText(field.value);
    button.textContent = 'Copied';
  } catch {
    // No clipboard (permissions, http): the text is selected for Ctrl+C.
    button.textContent = 'Copy';
  }
}

/** @param {AccountDeps} deps */
export function createAccountPanel(deps) {
  const panel = byId('account', window.HTMLElement);
  const userName = byId('account-user', window.HTMLElement);
  const signOutButton = byId('sign-out', window.HTMLButtonElement);
  const inviteButton = byId('invite', window.HTMLButtonElement);
  const inviteResult = byId('invite-result', window.HTMLDivElement);
  const inviteLink = byId('invite-link', window.HTMLInputElement);
  const copyInvite = byId('copy-invite', window.HTMLButtonElement);
  const error = byId('account-error', window.HTMLParagraphElement);
  const more = byId('account-more', window.HTMLDetailsElement);
  const tokenForm = byId('token-form', window.HTMLFormElement);
  const tokenName = byId('token-name', window.HTMLInputElement);
  const tokenError = byId('token-error', window.HTMLParagraphElement);
  const newToken = byId('new-token', window.HTMLDivElement);
  const newTokenValue = byId('new-token-value', window.HTMLInputElement);
  const copyToken = byId('copy-token', window.HTMLButtonElement);
  const tokenList = byId('tokens', window.HTMLUListElement);
  const passwordForm = byId('password-form', window.HTMLFormElement);
  const current = byId('current-password', window.HTMLInputElement);
  const next = byId('new-password', window.HTMLInputElement);
  const passwordError = byId('password-error', window.HTMLParagraphElement);
  const passwordDone = byId('password-done', window.HTMLParagraphElement);

  // JWT mode: the operator's site owns the user; no tokens, passwords or invites here.
  if (deps.mode === 'jwt') more.remove();

  /** @param {import('./accounts-api.js').TokenInfo[]} tokens */
  function renderTokens(tokens) {
    tokenList.replaceChildren(
      ...tokens.map((token) => {
        const item = h('li', 'token');
        const created = new Date(token.created_at).toLocaleDateString();
        item.append(h('span', 'token-name', token.name), h('span', 'token-date', created));
        const revoke = h('button', 'button button-secondary', 'Revoke');
        revoke.type = 'button';
        revoke.setAttribute('aria-label', `Revoke ${token.name}`);
        revoke.addEventListener('click', () => void revokeToken(token.id));
        item.append(revoke);
        return item;
      }),
    );
  }

  async function loadTokens() {
    const tokens = await accounts.listTokens();
    if (tokens) renderTokens(tokens);
  }

  /** @param {string} id */
  async function revokeToken(id) {
    const answer = await accounts.revokeToken(id);
    tokenError.textContent = answer.ok ? '' : answer.message;
    newToken.hidden = true;
    await loadTokens();
  }

  signOutButton.addEventListener('click', () => void deps.signOut());
  async function invite() {
    error.textContent = '';
    const result = await accounts.createInvite();
    if ('error' in result) {
      error.textContent = result.error;
      return;
    }
    const link = new URL('/', window.location.origin);
    link.searchParams.set('invite', result.code);
    inviteLink.value = link.href;
    copyInvite.textContent = 'Copy';
    inviteResult.hidden = false;
  }
  inviteButton.addEventListener('click', () => void invite());
  copyInvite.addEventListener('click', () => void copy(inviteLink, copyInvite));
  copyToken.addEventListener('click', () => void copy(newTokenValue, copyToken));
  more.addEventListener('toggle', () => {
    if (more.open) void loadTokens();
  });
  async function createToken() {
    const name = tokenName.value.trim();
    tokenError.textContent = '';
    if (!name) {
      tokenError.textContent = 'Enter a name for the token (what it is for).';
      tokenName.focus();
      return;
    }
    const result = await accounts.createToken(name);
    if ('error' in result) {
      tokenError.textContent = result.error;
      return;
    }
    tokenName.value = '';
    newTokenValue.value = result.token;
    copyToken.textContent = 'Copy';
    newToken.hidden = false;
    await loadTokens();
  }
  tokenForm.addEventListener('submit', (event) => {
    event.preventDefault();
    void createToken();
  });
  async function changePassword() {
    passwordError.textContent = '';
    passwordDone.textContent = '';
    const answer = await accounts.changePassword(current.value, next.value);
    if (!answer.ok) {
      passwordError.textContent = answer.message;
      return;
    }
    current.value = '';
    next.value = '';
    passwordDone.textContent = 'Password changed. Your other sessions and tokens have ended.';
    await loadTokens();
  }
  passwordForm.addEventListener('submit', (event) => {
    event.preventDefault();
    void changePassword();
  });

  return {
    /** Signed in: the panel shows this user. @param {User} user */
    show(user) {
      userName.textContent = user.username;
      inviteButton.hidden = !user.admin || deps.mode === 'jwt';
      panel.hidden = false;
      if (more.open) void loadTokens();
    },
    /** Signed out: nothing of the last user stays on the page. */
    hide() {
      panel.hidden = true;
      for (const field of [inviteLink, newTokenValue, tokenName, current, next]) field.value = '';
      inviteResult.hidden = true;
      newToken.hidden = true;
      tokenList.replaceChildren();
      for (const line of [error, tokenError, passwordError, passwordDone]) line.textContent = '';
      more.open = false;
    },
  };
}
