import { jwtVerify } from 'jose';
import type { JwtKey } from '../../config.ts';
import type { Principal } from '../../domain/identity.ts';
import { normalizeUsername } from '../../domain/names.ts';

/** Far larger than a real JWT: a longer one is refused before it is parsed. */
const MAX_LENGTH = 8192;

/**
 * AUTH=jwt: the operator's backend signs short-lived tokens. jose checks the signature with the
 * one algorithm the configured key allows (so `alg: none`, and HS256 signed with a public key's
 * text, are refused), the expiry, and that `exp` and `sub` are there; `sub` must be a username
 * already in its stored form (the name rules), `admin`, when present, a boolean.
 */
export class JwtVerifier {
  constructor(private readonly key: JwtKey) {}

  /** The principal a token names, or undefined for a token that must be refused. */
  async verify(token: string): Promise<Principal | undefined> {
    if (token.length > MAX_LENGTH) return undefined;
    const key = this.key.algorithm === 'HS256' ? this.key.secret : this.key.publicKey;
    let payload;
    try {
      ({ payload } = await jwtVerify(token, key, {
        algorithms: [this.key.algorithm],
        requiredClaims: ['exp', 'sub'],
      }));
    } catch {
      return undefined;
    }
    const { sub, exp, admin } = payload;
    if (typeof sub !== 'string' || normalizeUsername(sub) !== sub || typeof exp !== 'number') {
      return undefined;
    }
    if (admin !== undefined && typeof admin !== 'boolean') return undefined;
    return {
      username: sub,
      admin: admin === true,
      credential: { kind: 'jwt', expiresAt: exp * 1000 },
    };
  }
}
