import type { FastifyInstance } from 'fastify';
import type { HistoryClient } from '../../bus/types.ts';
import type { RoomUpdate } from '../../domain/rooms.ts';
import { viewerOf } from '../auth/gate.ts';
import type { RequestLimit } from '../rate-limits.ts';
import { errorRef, nameTaken, roomIdParams, roomNotFound } from './schemas.ts';

export interface RoomMemberRoutesDeps {
  history: HistoryClient;
  /** ROOM_CREATE_LIMIT (a DM is a room too); undefined: no limit. */
  limitRoomCreation?: RequestLimit | undefined;
}

const usernames = { type: 'array', items: { type: 'string' } } as const;
const byUsername = {
  type: 'object',
  required: ['username'],
  additionalProperties: false,
  properties: { username: { type: 'string', minLength: 1 } },
} as const;
const NOT_FOUND =
  '`404 room_not_found` for an unknown room and for one the caller may not see (the same answer)';
const OPEN_MODE = '`403 forbidden` in open mode (nobody is known there).';

/**
 * Private rooms' members, room management (rename, archive, owner) and direct messages. Storage
 * checks who may do what (domain/rooms.ts); a removal closes the member's sockets to the room on
 * every gateway through the access feed.
 */
export function roomMemberRoutes(app: FastifyInstance, deps: RoomMemberRoutesDeps): void {
  const { history, limitRoomCreation } = deps;
  const errors = { 400: errorRef, 403: errorRef, 404: roomNotFound, 429: errorRef, 503: errorRef };

  app.get<{ Params: { id: number } }>(
    '/api/servers/:id/members',
    {
      schema: {
        summary: 'The members of a private room or DM, sorted by code point',
        description: `Members and admins (a DM: its two members). A public room has no member list (\`400 bad_request\`: everyone may read it). ${NOT_FOUND}.`,
        tags: ['members'],
        params: roomIdParams,
        response: { 200: usernames, ...errors },
      },
    },
    (request) => history.members(request.params.id, viewerOf(request)),
  );

  app.post<{ Params: { id: number }; Body: { username: string } }>(
    '/api/servers/:id/members',
    {
      schema: {
        summary: 'Add a member to a private room',
        description: `The owner or an admin: \`201\` the members after the add (\`200\` when the user was a member already); \`403 forbidden\` for other members and for every DM; \`404 user_not_found\`; \`400 bad_request\` for a public room. ${NOT_FOUND}. ${OPEN_MODE}`,
        tags: ['members'],
        params: roomIdParams,
        body: byUsername,
        response: { 200: usernames, 201: usernames, ...errors },
      },
    },
    async (request, reply) => {
      const { members, existed } = await history.addMember(
        request.params.id,
        request.body.username,
        viewerOf(request),
      );
      return reply.code(existed ? 200 : 201).send(members);
    },
  );

  app.delete<{ Params: { id: number; username: string } }>(
    '/api/servers/:id/members/:username',
    {
      schema: {
        summary: 'Remove a member from a private room (or leave it)',
        description: `The owner, an admin, or the member themself: \`204\`, and the member's WebSockets to the room close with \`4403\` at once, on every gateway. An owner who leaves gives the room up to the admins. \`403 forbidden\` in a DM; \`404 user_not_found\` when the user is no member. ${NOT_FOUND}. ${OPEN_MODE}`,
        tags: ['members'],
        params: {
          type: 'object',
          required: ['id', 'username'],
          properties: { ...roomIdParams.properties, username: { type: 'string' } },
        },
        response: { 204: { type: 'null' }, ...errors },
      },
    },
    async (request, reply) => {
      await history.removeMember(request.params.id, request.params.username, viewerOf(request));
      return reply.code(204).send();
    },
  );

  app.patch<{ Params: { id: number }; Body: RoomUpdate }>(
    '/api/servers/:id',
    {
      schema: {
        summary: 'Rename, archive or give a room a new owner',
        description: `The owner or an admin; \`owner\` an admin only. \`archived: true\` makes the room read-only (a new message is refused with \`forbidden\`) and lists it only with \`GET /api/servers?archived=true\`. Names follow the rules of creation (\`400 invalid_room_name\`, \`409 room_name_taken\`). A DM cannot be renamed or managed (\`403 forbidden\`); \`404 user_not_found\` for an unknown new owner (who becomes a member of a private room). ${NOT_FOUND}. ${OPEN_MODE}`,
        tags: ['rooms'],
        params: roomIdParams,
        body: {
          type: 'object',
          additionalProperties: false,
          minProperties: 1,
          properties: {
            name: { type: 'string', minLength: 1 },
            archived: { type: 'boolean' },
            owner: { type: 'string', minLength: 1 },
          },
        },
        response: { 200: { $ref: 'Room#' }, 409: nameTaken, ...errors },
      },
    },
    (request) => history.updateRoom(request.params.id, request.body, viewerOf(request)),
  );

  app.post<{ Body: { username: string } }>(
    '/api/dms',
    {
      ...(limitRoomCreation && { onRequest: limitRoomCreation }),
      schema: {
        summary: 'Open the direct-message room with a user',
        description: `\`201\` the DM of the caller and that user (private, both members, no owner, \`name\` null), or \`200\` the same room when it exists, whoever asks. \`404 user_not_found\`; \`400 bad_request\` for oneself. Counts against \`ROOM_CREATE_LIMIT\`. ${OPEN_MODE}`,
        tags: ['members'],
        body: byUsername,
        response: { 200: { $ref: 'Room#' }, 201: { $ref: 'Room#' }, ...errors },
      },
    },
    async (request, reply) => {
      const { room, existed } = await history.openDm(request.body.username, viewerOf(request));
      return reply.code(existed ? 200 : 201).send(room);
    },
  );
}
