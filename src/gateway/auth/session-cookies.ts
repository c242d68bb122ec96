import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Credential } from '../../domain/identity.ts';
import {
  SESSION_COOKIE,
  SESSION_LIFETIME_MS,
  SESSION_RENEW_AFTER_MS,
  randomId,
} from './credentials.ts';
import type { CredentialCodec, SessionClaims } from './credentials.ts';

/**
 * The `chatroom_session` cookie: HttpOnly, SameSite=Lax, Path=/, `Secure` when the request came
 * over https (as TRUST_PROXY lets Fastify see it), `Max-Age` following the session's end.
 */
export class SessionCookies {
  constructor(
    private readonly codec: CredentialCodec,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Starts a session for the user: 30 days, renewed by use, or, from a JWT, until `expiresAt`
   * (fixed). Returns its claims.
   */
  start(
    request: FastifyRequest,
    reply: FastifyReply,
    user: { username: string; admin: boolean },
    options: { issuedAt?: number; expiresAt?: number; sid?: string } = {},
  ): SessionClaims {
    const now = this.now();
    const issuedAt = options.issuedAt ?? now;
    const claims: SessionClaims = {
      sid: options.sid ?? randomId(),
      username: user.username,
      admin: user.admin,
      issuedAt,
      expiresAt: options.expiresAt ?? issuedAt + SESSION_LIFETIME_MS,
      fixedExpiry: options.expiresAt !== undefined,
    };
    this.set(request, reply, claims, now);
    return claims;
  }

  /** A sliding session used a day or more after its cookie was made gets a fresh cookie. */
  renewIfDue(
    request: FastifyRequest,
    reply: FastifyReply,
    user: { username: string; admin: boolean },
    credential: Credential,
  ): void {
    if (credential.kind !== 'session' || credential.fixedExpiry) return;
    if (this.now() - credential.issuedAt < SESSION_RENEW_AFTER_MS) return;
    this.start(request, reply, user, { sid: credential.id });
  }

  clear(request: FastifyRequest, reply: FastifyReply): void {
    void reply.clearCookie(SESSION_COOKIE, this.options(request));
  }

  /** `now`: the time the claims were made at, so that a new session's Max-Age is whole days. */
  private set(
    request: FastifyRequest,
    reply: FastifyReply,
    claims: SessionClaims,
    now: number,
  ): void {
    const maxAge = Math.max(0, Math.floor((claims.expiresAt - now) / 1000));
    void reply.setCookie(SESSION_COOKIE, this.codec.issueSession(claims), {
      ...this.options(request),
      maxAge,
    });
  }

  private options(request: FastifyRequest) {
    return {
      httpOnly: true,
      sameSite: 'lax' as const,
      path: '/',
      secure: request.protocol === 'https',
    };
  }
}
