/**
 * Who a caller is. A gateway resolves the `Principal` once per REST request and once per
 * WebSocket (at the upgrade) from its credentials; outside open mode every message, presence
 * entry and typing frame carries the principal's username.
 */
import { codePointLength, isWellFormed } from './message.ts';

/** An account as storage keeps it (no password, no hash). */
export interface User {
  username: string;
  admin: boolean;
  disabled: boolean;
  created_at: string;
}

/** How the caller proved who they are; what revocation is checked against. */
export type Credential =
  /** A session cookie; `expiresAt` (ms) is fixed when it came from a JWT (`fixedExpiry`). */
  | { kind: 'session'; id: string; issuedAt: number; expiresAt: number; fixedExpiry: boolean }
  /** A personal access token: it does not expire, it is revoked. */
  | { kind: 'token'; id: string; issuedAt: number }
  | { kind: 'jwt'; expiresAt: number }
  /** AUTH=open: the client named itself. */
  | { kind: 'open' };

export interface Principal {
  username: string;
  admin: boolean;
  credential: Credential;
}

/** When the credential stops working by itself (ms since the epoch), if ever. */
export function expiryOf(credential: Credential): number | undefined {
  if (credential.kind === 'jwt' || credential.kind === 'session') return credential.expiresAt;
  return undefined;
}

export type AuthMode = 'accounts' | 'jwt' | 'open';
export type RegistrationPolicy = 'invite' | 'open' | 'closed';

export const PASSWORD_MIN_CHARS = 8;
export const PASSWORD_MAX_CHARS = 256;

/**
 * Why a new password is refused: `weak` (fewer than 8 or more than 256 code points) or
 * `malformed` (a lone surrogate: two such passwords would hash alike).
 */
export function passwordProblem(password: string): 'weak' | 'malformed' | undefined {
  if (!isWellFormed(password)) return 'malformed';
  const length = codePointLength(password);
  if (length < PASSWORD_MIN_CHARS || length > PASSWORD_MAX_CHARS) return 'weak';
  return undefined;
}

/** The longest token name, in code points. */
export const TOKEN_NAME_MAX_CHARS = 100;

/** A personal access token's name: 1-100 code points, no control characters. */
export function isValidTokenName(name: string): boolean {
  const length = codePointLength(name);
  return (
    length >= 1 &&
    length <= TOKEN_NAME_MAX_CHARS &&
    isWellFormed(name) &&
    !/\p{Cc}/u.test(name) &&
    name.trim().length > 0
  );
}

/** A personal access token as its owner sees it (the secret is shown once, at creation). */
export interface TokenInfo {
  id: string;
  name: string;
  created_at: string;
}

export interface Invite {
  code: string;
  expires_at: string;
}

/** How long an invite code works. */
export const INVITE_LIFETIME_MS = 7 * 24 * 3_600_000;
