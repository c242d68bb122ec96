// @ts-check
/**
 * The REST calls of accounts and JWT mode: sign-in, registration, sign-out, the user, tokens,
 * invites, the password. The session is the cookie the browser keeps and sends by itself.
 */
import { UNREACHABLE, call } from './api.js';
import { isObject } from './protocol.js';

/** @typedef {{ username: string, admin: boolean }} User */
/** @typedef {{ id: string, name: string, created_at: string }} TokenInfo */
/** @typedef {import('./api.js').Answer} Answer */

/** @param {unknown} body @returns {body is User} */
function isUser(body) {
  return isObject(body) && typeof body.username === 'string' && typeof body.admin === 'boolean';
}

/**
 * @param {Answer} answer
 * @returns {{ user: User } | { error: string, status: number }}
 */
function userOf(answer) {
  if (!answer.ok) return { error: answer.message, status: answer.status };
  return isUser(answer.body) ? { user: answer.body } : { error: UNREACHABLE, status: 0 };
}

/** The signed-in user; `status` 401 when there is no session. */
export async function me() {
  return userOf(await call('GET', '/api/me'));
}

/** @param {string} username @param {string} password */
export async function login(username, password) {
  return userOf(await call('POST', '/api/auth/login', { username, password }));
}

/** @param {string} username @param {string} password @param {string} invite '' for none */
export async function register(username, password, invite) {
  const body = invite ? { username, password, invite } : { username, password };
  return userOf(await call('POST', '/api/auth/register', body));
}

/** Ends the session (the server clears the cookie). */
export async function logout() {
  return call('POST', '/api/auth/logout');
}

/** JWT mode: trades the operator's token for a session cookie. @param {string} jwt */
export async function startJwtSession(jwt) {
  return call('POST', '/api/auth/session', undefined, { authorization: `Bearer ${jwt}` });
}

/** @returns {Promise<TokenInfo[] | null>} */
export async function listTokens() {
  const answer = await call('GET', '/api/tokens');
  return answer.ok && Array.isArray(answer.body) ? /** @type {TokenInfo[]} */ (answer.body) : null;
}

/** @param {string} name @returns {Promise<{ token: string } | { error: string }>} */
export async function createToken(name) {
  const answer = await call('POST', '/api/tokens', { name });
  if (!answer.ok) return { error: answer.message };
  const token = isObject(answer.body) ? answer.body.token : undefined;
  return typeof token === 'string' ? { token } : { error: UNREACHABLE };
}

/** @param {string} id */
export async function revokeToken(id) {
  return call('DELETE', `/api/tokens/${encodeURIComponent(id)}`);
}

/** @returns {Promise<{ code: string } | { error: string }>} */
export async function createInvite() {
  const answer = await call('POST', '/api/invites');
  if (!answer.ok) return { error: answer.message };
  const code = isObject(answer.body) ? answer.body.code : undefined;
  return typeof code === 'string' ? { code } : { error: UNREACHABLE };
}

/** @param {string} current @param {string} next */
export async function changePassword(current, next) {
  return call('PUT', '/api/me/password', { current, new: next });
}
