import type { Principal } from '../../domain/identity.ts';
import type { AccessState, Refusal } from './access-state.ts';
import type { CredentialCodec } from './credentials.ts';
import type { JwtVerifier } from './jwt.ts';

/** Who the caller is, or why they are refused (a message for the 401/403 body or close reason). */
export type Identity = { principal: Principal } | { refusal: Refusal; message: string };

/** The credentials a request may carry. */
export interface PresentedCredentials {
  /** The `Authorization` header. */
  authorization: string | undefined;
  /** The `chatroom_session` cookie. */
  cookie: string | undefined;
  /** `?access_token=` (WebSocket upgrades only). */
  accessToken: string | undefined;
}

export interface AuthenticatorDeps {
  mode: 'accounts' | 'jwt';
  codec: CredentialCodec;
  access: AccessState;
  jwt: JwtVerifier | undefined;
  /** JWT mode: a user seen for the first time by this gateway (storage records them). */
  onJwtUser?: (username: string) => void;
  now?: () => number;
}

const MISSING = 'Sign in first: a session cookie or an Authorization: Bearer token is needed';
const INVALID = 'The credentials are invalid or expired; sign in again';
const ENDED = 'The session or token has ended; sign in again';
const DISABLED = 'This account is disabled';

/**
 * Resolves a request's principal from its credentials: `Authorization: Bearer` first, then
 * `?access_token=`, then the session cookie. A credential that is present but bad is refused,
 * never skipped for the next one. Accounts mode: the bearer is a personal access token; JWT
 * mode: a JWT. In both, the cookie is a session. Costs no I/O: an HMAC (or, for a JWT, its
 * signature check) and a few lookups in AccessState.
 */
export class Authenticator {
  private readonly now: () => number;
  private readonly seenJwtUsers = new Set<string>();

  constructor(private readonly deps: AuthenticatorDeps) {
    this.now = deps.now ?? Date.now;
  }

  async identify(presented: PresentedCredentials): Promise<Identity> {
    const bearer = bearerOf(presented.authorization) ?? presented.accessToken;
    let principal: Principal | undefined;
    if (bearer !== undefined) {
      principal = await this.fromBearer(bearer);
    } else if (presented.cookie !== undefined) {
      principal = this.fromCookie(presented.cookie);
    } else {
      return { refusal: 'unauthenticated', message: MISSING };
    }
    if (!principal) return { refusal: 'unauthenticated', message: INVALID };
    const refusal = this.deps.access.refusal(principal);
    if (refusal) return { refusal, message: refusal === 'user_disabled' ? DISABLED : ENDED };
    return { principal };
  }

  private async fromBearer(bearer: string): Promise<Principal | undefined> {
    if (this.deps.mode === 'jwt') {
      const principal = await this.deps.jwt?.verify(bearer);
      if (principal && !this.seenJwtUsers.has(principal.username)) {
        this.seenJwtUsers.add(principal.username);
        this.deps.onJwtUser?.(principal.username);
      }
      return principal;
    }
    const claims = this.deps.codec.readToken(bearer);
    if (!claims) return undefined;
    return {
      username: claims.username,
      admin: claims.admin,
      credential: { kind: 'token', id: claims.tid, issuedAt: claims.issuedAt },
    };
  }

  private fromCookie(cookie: string): Principal | undefined {
    const claims = this.deps.codec.readSession(cookie, this.now());
    if (!claims) return undefined;
    return {
      username: claims.username,
      admin: claims.admin,
      credential: {
        kind: 'session',
        id: claims.sid,
        issuedAt: claims.issuedAt,
        expiresAt: claims.expiresAt,
        fixedExpiry: claims.fixedExpiry,
      },
    };
  }
}

/**
 * The token of `Authorization: Bearer TOKEN`; '' (refused) for a malformed Bearer header. Other
 * schemes (`Basic` from a proxy in front) are not ours: the cookie may still speak.
 */
function bearerOf(header: string | undefined): string | undefined {
  if (header === undefined || !/^Bearer(?: |$)/i.test(header)) return undefined;
  const match = /^Bearer +(\S+) *$/i.exec(header);
  return match ? match[1] : '';
}
