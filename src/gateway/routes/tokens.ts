import type { FastifyInstance } from 'fastify';
import { isValidTokenName } from '../../domain/identity.ts';
import { ChatError } from '../../errors.ts';
import { randomId, tokenHash } from '../auth/credentials.ts';
import { principalOf } from '../auth/gate.ts';
import type { AuthParts } from '../auth/gate.ts';
import { errorAnswers, noContent, stringFields, userRef } from './account-schemas.ts';

const idParam = (name: string) =>
  ({
    type: 'object',
    required: [name],
    properties: { [name]: { type: 'string', minLength: 1, maxLength: 200 } },
  }) as const;

/**
 * Accounts mode: personal access tokens (each user their own), and what admins do: invites and
 * disabling users.
 */
export function tokenAndAdminRoutes(app: FastifyInstance, auth: AuthParts): void {
  const { accounts, codec } = auth;

  app.post<{ Body: { name: string } }>(
    '/api/tokens',
    {
      schema: {
        summary: 'Make a personal access token (for bots and scripts)',
        description:
          'The token is shown only in this answer (storage keeps its hash). It works until ' +
          'revoked, the password changes, or the user is disabled.',
        tags: ['tokens'],
        body: stringFields(['name']),
        response: {
          201: { $ref: 'NewToken#' },
          ...errorAnswers({ 400: ['bad_request'], 503: ['unavailable'] }),
        },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const { name } = request.body;
      if (!isValidTokenName(name)) {
        throw new ChatError('bad_request', 'A token name has 1-100 characters, not only blanks');
      }
      const id = randomId();
      const issuedAt = Date.now();
      const token = codec.issueToken({
        tid: id,
        username: principal.username,
        admin: principal.admin,
        issuedAt,
      });
      const info = await accounts.createToken({
        id,
        username: principal.username,
        name,
        tokenHash: tokenHash(token),
        createdAt: new Date(issuedAt).toISOString(),
      });
      return reply.code(201).send({ ...info, token });
    },
  );

  app.get(
    '/api/tokens',
    {
      schema: {
        summary: 'The current user’s tokens (without their secret), oldest first',
        tags: ['tokens'],
        response: {
          200: { type: 'array', items: { $ref: 'Token#' } },
          ...errorAnswers({ 503: ['unavailable'] }),
        },
      },
    },
    (request) => accounts.listTokens(principalOf(request).username),
  );

  app.delete<{ Params: { id: string } }>(
    '/api/tokens/:id',
    {
      schema: {
        summary: 'Revoke a token',
        tags: ['tokens'],
        params: idParam('id'),
        response: {
          204: noContent,
          ...errorAnswers({ 404: ['not_found'], 503: ['unavailable'] }),
        },
      },
    },
    async (request, reply) => {
      await accounts.revokeToken(principalOf(request).username, request.params.id);
      return reply.code(204).send();
    },
  );

  app.post(
    '/api/invites',
    {
      schema: {
        summary: 'Make an invite code, valid 7 days for any number of registrations (admin)',
        tags: ['admin'],
        response: {
          201: { $ref: 'Invite#' },
          ...errorAnswers({ 403: ['forbidden'], 503: ['unavailable'] }),
        },
      },
    },
    async (request, reply) => {
      const invite = await accounts.createInvite(principalOf(request).username);
      return reply.code(201).send(invite);
    },
  );

  app.delete<{ Params: { code: string } }>(
    '/api/invites/:code',
    {
      schema: {
        summary: 'Revoke an invite code (admin)',
        tags: ['admin'],
        params: idParam('code'),
        response: {
          204: noContent,
          ...errorAnswers({ 403: ['forbidden'], 404: ['not_found'], 503: ['unavailable'] }),
        },
      },
    },
    async (request, reply) => {
      await accounts.revokeInvite(principalOf(request).username, request.params.code);
      return reply.code(204).send();
    },
  );

  app.patch<{ Params: { username: string }; Body: { disabled: boolean } }>(
    '/api/users/:username',
    {
      schema: {
        summary: 'Disable or enable a user (admin)',
        description:
          'A disabled user’s sessions and tokens stop working (`403 user_disabled`) and their ' +
          'WebSockets close with 4403. An admin cannot disable their own account.',
        tags: ['admin'],
        params: idParam('username'),
        body: {
          type: 'object',
          required: ['disabled'],
          additionalProperties: false,
          properties: { disabled: { type: 'boolean' } },
        },
        response: {
          200: userRef,
          ...errorAnswers({
            400: ['bad_request'],
            403: ['forbidden'],
            404: ['user_not_found'],
            503: ['unavailable'],
          }),
        },
      },
    },
    (request) =>
      accounts.setDisabled(
        principalOf(request).username,
        request.params.username,
        request.body.disabled,
      ),
  );
}
