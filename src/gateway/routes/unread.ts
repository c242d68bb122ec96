import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { HistoryClient } from '../../bus/types.ts';
import { normalizeUsername } from '../../domain/names.ts';
import { NOTIFY_LEVELS } from '../../domain/notify.ts';
import type { NotifyLevel } from '../../domain/notify.ts';
import type { Reader } from '../../domain/unread.ts';
import { ChatError } from '../../errors.ts';
import { viewerOf } from '../auth/gate.ts';
import { errorRef, roomIdParams, roomNotFound } from './schemas.ts';

export interface UnreadRoutesDeps {
  history: HistoryClient;
}

/** Open mode names the reader with `?username=`; elsewhere it is ignored. */
export const readerQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    username: {
      type: 'string',
      description: 'AUTH=open only: who reads (elsewhere the credentials say, and this is ignored)',
    },
  },
} as const;

const OPEN_MODE = 'In open mode `?username=` names the reader (`400 bad_request` without it).';

/**
 * Who reads: the credentials' user, or in open mode the request's `?username=`; undefined when
 * open mode gives none. A name that breaks the name rules is `bad_request`.
 */
export function readerOf(request: FastifyRequest): Reader | undefined {
  const viewer = viewerOf(request);
  if (viewer) return { username: viewer.username, viewer };
  const raw = (request.query as { username?: unknown } | undefined)?.username;
  if (raw === undefined) return undefined;
  const username = typeof raw === 'string' ? normalizeUsername(raw) : undefined;
  if (username === undefined) {
    throw new ChatError('bad_request', '?username= must be a valid username (1-32 characters)');
  }
  return { username, viewer: null };
}

function requiredReader(request: FastifyRequest): Reader {
  const reader = readerOf(request);
  if (!reader) throw new ChatError('bad_request', 'AUTH=open: name the reader with ?username=');
  return reader;
}

/**
 * Read markers, notification levels and leaving a public room (domain/unread.ts). Storage checks
 * that the room is one the caller may see (`404 room_not_found` otherwise).
 */
export function unreadRoutes(app: FastifyInstance, deps: UnreadRoutesDeps): void {
  const { history } = deps;
  const errors = { 400: errorRef, 404: roomNotFound, 429: errorRef, 503: errorRef };

  app.put<{ Params: { id: number }; Body: { id: number } }>(
    '/api/servers/:id/read',
    {
      schema: {
        summary: 'Move the caller’s read marker of a room',
        description: `\`last_read\` only moves forward (a lower id changes nothing; one above the room’s newest is its newest). A public room joins the caller’s rooms (counted, with \`unread\` and \`mention\` frames) until \`DELETE …/membership\`. ${OPEN_MODE}`,
        tags: ['unread'],
        params: roomIdParams,
        querystring: readerQuery,
        body: {
          type: 'object',
          required: ['id'],
          additionalProperties: false,
          properties: { id: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER } },
        },
        response: { 200: { $ref: 'UnreadCounts#' }, ...errors },
      },
    },
    (request) => history.markRead(request.params.id, request.body.id, requiredReader(request)),
  );

  app.put<{ Params: { id: number }; Body: { level: NotifyLevel } }>(
    '/api/servers/:id/notify',
    {
      schema: {
        summary: 'Set the caller’s notification level of a room',
        description: `\`all\`: a \`mention\` frame for every new message; \`mentions\` (the default): for those that mention the caller or the room, and in DMs; \`none\`: the page shows no notifications. Answers the counts and the level. ${OPEN_MODE}`,
        tags: ['unread'],
        params: roomIdParams,
        querystring: readerQuery,
        body: {
          type: 'object',
          required: ['level'],
          additionalProperties: false,
          properties: { level: { type: 'string', enum: [...NOTIFY_LEVELS] } },
        },
        response: { 200: { $ref: 'UnreadCounts#' }, ...errors },
      },
    },
    (request) => history.setNotify(request.params.id, request.body.level, requiredReader(request)),
  );

  app.delete<{ Params: { id: number } }>(
    '/api/servers/:id/membership',
    {
      schema: {
        summary: 'Leave a public room: it stays readable but is no longer counted',
        description: `\`204\`; opening the room again (its WebSocket, or \`PUT …/read\`) joins it again. A private room is left through \`DELETE …/members/{username}\` (\`400 bad_request\` here). ${OPEN_MODE}`,
        tags: ['unread'],
        params: roomIdParams,
        querystring: readerQuery,
        response: { 204: { type: 'null' }, ...errors },
      },
    },
    async (request, reply) => {
      await history.leaveRoom(request.params.id, requiredReader(request));
      return reply.code(204).send();
    },
  );
}
