/**
 * Signed credentials a gateway checks without a round trip: the session cookie and the personal
 * access token. Both are a base64url JSON payload and its HMAC-SHA256 under SESSION_SECRET,
 * compared in constant time; each kind signs its own prefix with the payload, so that one kind
 * never passes for the other. Times are milliseconds since the epoch.
 *
 * - session cookie: `v1.<payload>.<mac>`, payload `{sid, u, adm, iat, exp, fix?}` (`fix`: its
 *   expiry is fixed, a JWT's, not sliding)
 * - token: `chr_<payload>.<mac>`, payload `{tid, u, adm, iat}`
 *
 * A valid signature is not enough: AccessState refuses what was ended or revoked since.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const SESSION_COOKIE = 'chatroom_session';
/** A session ends after this long without use; a use a day after the last cookie renews it. */
export const SESSION_LIFETIME_MS = 30 * 24 * 3_600_000;
export const SESSION_RENEW_AFTER_MS = 24 * 3_600_000;

export interface SessionClaims {
  sid: string;
  username: string;
  admin: boolean;
  issuedAt: number;
  expiresAt: number;
  fixedExpiry: boolean;
}

export interface TokenClaims {
  tid: string;
  username: string;
  admin: boolean;
  issuedAt: number;
}

const SESSION_PREFIX = 'v1.';
const TOKEN_PREFIX = 'chr_';
/** Far larger than any credential we issue: a longer one is refused before it is decoded. */
const MAX_LENGTH = 2048;

/** A random id (sessions, tokens): 16 bytes, base64url. */
export function randomId(): string {
  return randomBytes(16).toString('base64url');
}

/** What storage keeps of a token: its SHA-256, hex. */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

type Payload = Record<string, unknown>;

export class CredentialCodec {
  constructor(private readonly secret: Buffer) {}

  issueSession(claims: SessionClaims): string {
    const payload: Payload = {
      sid: claims.sid,
      u: claims.username,
      adm: claims.admin,
      iat: claims.issuedAt,
      exp: claims.expiresAt,
      ...(claims.fixedExpiry ? { fix: true } : {}),
    };
    return this.sign(SESSION_PREFIX, payload);
  }

  /** The claims of a well-signed, unexpired session cookie; undefined otherwise. */
  readSession(value: string, now: number): SessionClaims | undefined {
    const p = this.open(SESSION_PREFIX, value);
    if (
      !p ||
      typeof p.sid !== 'string' ||
      typeof p.u !== 'string' ||
      typeof p.adm !== 'boolean' ||
      typeof p.iat !== 'number' ||
      typeof p.exp !== 'number' ||
      (p.fix !== undefined && p.fix !== true) ||
      p.exp <= now
    ) {
      return undefined;
    }
    return {
      sid: p.sid,
      username: p.u,
      admin: p.adm,
      issuedAt: p.iat,
      expiresAt: p.exp,
      fixedExpiry: p.fix === true,
    };
  }

  issueToken(claims: TokenClaims): string {
    return this.sign(TOKEN_PREFIX, {
      tid: claims.tid,
      u: claims.username,
      adm: claims.admin,
      iat: claims.issuedAt,
    });
  }

  readToken(value: string): TokenClaims | undefined {
    const p = this.open(TOKEN_PREFIX, value);
    if (
      !p ||
      typeof p.tid !== 'string' ||
      typeof p.u !== 'string' ||
      typeof p.adm !== 'boolean' ||
      typeof p.iat !== 'number'
    ) {
      return undefined;
    }
    return { tid: p.tid, username: p.u, admin: p.adm, issuedAt: p.iat };
  }

  private mac(prefix: string, payload: string): Buffer {
    return createHmac('sha256', this.secret).update(prefix).update(payload).digest();
  }

  private sign(prefix: string, payload: Payload): string {
    const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
    return `${prefix}${body}.${this.mac(prefix, body).toString('base64url')}`;
  }

  private open(prefix: string, value: string): Payload | undefined {
    if (value.length > MAX_LENGTH || !value.startsWith(prefix)) return undefined;
    const [body, mac, extra] = value.slice(prefix.length).split('.');
    if (body === undefined || mac === undefined || extra !== undefined) return undefined;
    const expected = this.mac(prefix, body);
    const given = Buffer.from(mac, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    try {
      const payload: unknown = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
      return typeof payload === 'object' && payload !== null && !Array.isArray(payload)
        ? (payload as Payload)
        : undefined;
    } catch {
      return undefined;
    }
  }
}
