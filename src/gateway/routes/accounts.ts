import type { FastifyInstance } from 'fastify';
import type { Config } from '../../config.ts';
import type { User } from '../../domain/identity.ts';
import { ChatError } from '../../errors.ts';
import { SESSION_LIFETIME_MS } from '../auth/credentials.ts';
import { principalOf } from '../auth/gate.ts';
import type { AuthParts } from '../auth/gate.ts';
import { errorAnswers, noContent, stringFields, userRef } from './account-schemas.ts';

export interface AccountRoutesDeps {
  auth: AuthParts;
  config: Pick<Config, 'registration'>;
}

/**
 * Who one is: registration, sign-in and sign-out (accounts mode), the current user, the
 * password; in JWT mode the session a browser makes from its JWT. Routes of the other mode do
 * not exist (404).
 */
export function accountRoutes(app: FastifyInstance, deps: AccountRoutesDeps): void {
  const { accounts, cookies, mode } = deps.auth;
  const tags = ['accounts'];

  if (mode === 'accounts') {
    app.post<{ Body: { username: string; password: string; invite?: string } }>(
      '/api/auth/register',
      {
        schema: {
          summary: 'Create an account and sign in',
          description:
            'The first account of a fresh server needs no invite and is the admin. After it, ' +
            'REGISTRATION decides: `invite` (a valid `invite` code), `open` or `closed`.',
          tags,
          body: stringFields(['username', 'password'], ['invite']),
          response: {
            201: userRef,
            ...errorAnswers({
              400: ['invalid_username', 'weak_password', 'bad_request'],
              403: ['invite_required', 'invalid_invite', 'registration_closed'],
              409: ['username_taken'],
              503: ['unavailable'],
            }),
          },
        },
      },
      async (request, reply) => {
        const { username, password, invite } = request.body;
        const user = await accounts.register({
          username,
          password,
          invite,
          registration: deps.config.registration,
        });
        cookies.start(request, reply, user);
        return reply.code(201).send(user);
      },
    );

    app.post<{ Body: { username: string; password: string } }>(
      '/api/auth/login',
      {
        schema: {
          summary: 'Sign in: the user and a session cookie',
          description:
            '`401 invalid_credentials` for an unknown user and a wrong password alike; ' +
            '`429 rate_limited` (with `Retry-After`) after 10 failures for one username or 50 ' +
            'from one client address within 15 minutes.',
          tags,
          body: stringFields(['username', 'password']),
          response: {
            200: userRef,
            ...errorAnswers({
              400: ['bad_request'],
              401: ['invalid_credentials'],
              403: ['user_disabled'],
              429: ['rate_limited'],
              503: ['unavailable'],
            }),
          },
        },
      },
      async (request, reply) => {
        const { username, password } = request.body;
        const user = await accounts.login({ username, password, address: request.ip });
        cookies.start(request, reply, user);
        return user;
      },
    );

    app.put<{ Body: { current: string; new: string } }>(
      '/api/me/password',
      {
        schema: {
          summary: 'Change the password',
          description:
            'Every other session and token of the user ends; the session that made the ' +
            'change goes on (with a fresh cookie). `403 invalid_credentials` when `current` is wrong.',
          tags,
          body: stringFields(['current', 'new']),
          response: {
            204: noContent,
            ...errorAnswers({
              400: ['weak_password', 'bad_request'],
              403: ['invalid_credentials'],
              503: ['unavailable'],
            }),
          },
        },
      },
      async (request, reply) => {
        const principal = principalOf(request);
        const { credential } = principal;
        const keepSid = credential.kind === 'session' ? credential.id : null;
        const at = await accounts.changePassword({
          username: principal.username,
          current: request.body.current,
          next: request.body.new,
          keepSid,
        });
        if (keepSid !== null)
          cookies.start(request, reply, principal, { sid: keepSid, issuedAt: at });
        return reply.code(204).send();
      },
    );
  }

  if (mode === 'jwt') {
    app.post(
      '/api/auth/session',
      {
        schema: {
          summary: 'A session cookie from a JWT (for browsers)',
          description:
            'With `Authorization: Bearer JWT`: a session cookie that ends at the token’s `exp`.',
          tags,
          response: { 204: noContent },
        },
      },
      async (request, reply) => {
        const principal = principalOf(request);
        if (principal.credential.kind !== 'jwt') {
          throw new ChatError('unauthenticated', 'Send the JWT as Authorization: Bearer');
        }
        cookies.start(request, reply, principal, { expiresAt: principal.credential.expiresAt });
        return reply.code(204).send();
      },
    );
  }

  app.post(
    '/api/auth/logout',
    {
      schema: {
        summary: 'Sign out: the session ends and its cookie is cleared',
        tags,
        response: { 204: noContent, ...errorAnswers({ 503: ['unavailable'] }) },
      },
    },
    async (request, reply) => {
      const { credential } = principalOf(request);
      if (credential.kind === 'session') {
        // a copy of the cookie renewed just before now lives at most one lifetime more
        const until = credential.fixedExpiry
          ? credential.expiresAt
          : Date.now() + SESSION_LIFETIME_MS;
        await accounts.endSession(credential.id, until);
      }
      cookies.clear(request, reply);
      return reply.code(204).send();
    },
  );

  app.get(
    '/api/me',
    {
      schema: {
        summary: 'The current user',
        tags,
        response: { 200: userRef, ...errorAnswers({ 503: ['unavailable'] }) },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const user = await accounts.getUser(principal.username);
      if (mode === 'jwt') {
        // the token says whether the user is an admin, each time
        const known: User = user ?? {
          username: principal.username,
          admin: false,
          disabled: false,
          created_at: new Date().toISOString(),
        };
        return { ...known, username: principal.username, admin: principal.admin };
      }
      if (!user) throw new ChatError('unauthenticated', 'This account no longer exists');
      return user;
    },
  );
}
