// @ts-check
/**
 * The REST calls of accounts and JWT mode: sign-in, registration, sign-out, the user, tokens,
 * invites, the password. The session is the cookie the browser keeps and sends by itself.
 */
import { request } from './api.js';
import { isObject } from './protocol.js';

/** @typedef {{ username: string, admin: boolean }} User */
/** @typedef {{ id: string, name: string, created_at: string }} TokenInfo */
/**
 * An answer: `ok` with its JSON body, or what to tell the user.
 * @typedef {{ ok: true, status: number, body: unknown } | { ok: false, status: number, message: string }} Answer
 */

const UNREACHABLE = 'Could not reach the server. Try again.';

/** @param {number} seconds */
function inWords(seconds) {
  if (seconds < 60) return seconds === 1 ? '1 second' : `${seconds} seconds`;
  const minutes = Math.ceil(seconds / 60);
  return minutes === 1 ? '1 minute' : `${minutes} minutes`;
}

/**
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]
 * @param {Record<string, string>} [headers]
 * @returns {Promise<Answer>}
 */
async function call(method, path, body, headers = {}) {
  try {
    const response = await request(path, {
      method,
      headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    /** @type {unknown} */
    const json = await response.json().catch(() => null);
    if (response.ok) return { ok: true, status: response.status, body: json };
    let message =
      isObject(json) && typeof json.message === 'string'
        ? json.message
        : `The server refused (HTTP ${response.status})`;
    const retryAfter = Number(response.headers.get('retry-after'));
    if (response.status === 429 && retryAfter > 0) {
      message = `${message.replace(/\.?$/, '.')} Try again in ${inWords(retryAfter)}.`;
    }
    return { ok: false, status: response.status, message };
  } catch {
    return { ok: false, status: 0, message: UNREACHABLE };
  }
}

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
