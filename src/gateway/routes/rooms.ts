import type { FastifyInstance } from 'fastify';
import type { HistoryClient } from '../../bus/types.ts';
import type { Room, Viewer } from '../../domain/rooms.ts';
import { normalizeRoomName } from '../../domain/names.ts';
import { PRESENCE_PAGE_LIMIT } from '../../domain/presence.ts';
import type { RoomPresence } from '../../domain/presence.ts';
import { ChatError } from '../../errors.ts';
import { REST_PAGE_MAX_BYTES } from '../../protocol.ts';
import { viewerOf } from '../auth/gate.ts';
import type { RequestLimit } from '../rate-limits.ts';
import { errorRef, nameTaken, roomIdParams, roomNotFound } from './schemas.ts';
import { readerOf, readerQuery } from './unread.ts';

export interface RoomRoutesDeps {
  history: HistoryClient;
  presence: RoomPresence;
  /** ROOM_CREATE_LIMIT; undefined: no limit. */
  limitRoomCreation?: RequestLimit | undefined;
}

/** The room, if the viewer may see it; else `404 room_not_found`, as for an unknown room. */
export async function visibleRoom(
  history: HistoryClient,
  id: number,
  viewer: Viewer | null,
): Promise<Room> {
  const room = await history.getRoom(id, viewer);
  if (!room) throw new ChatError('room_not_found', `No room with id ${id}`);
  return room;
}

/** Rooms, their history and their presence: each answers only what the caller may see. */
export function roomRoutes(app: FastifyInstance, deps: RoomRoutesDeps): void {
  const { history, presence, limitRoomCreation } = deps;
  // 429: REST_RATE_LIMIT counts every /api/ route
  const errors = { 400: errorRef, 404: roomNotFound, 429: errorRef, 503: errorRef };

  app.get<{ Querystring: { archived: boolean; username?: string } }>(
    '/api/servers',
    {
      schema: {
        summary: 'List the rooms the caller can see, ordered by id',
        description:
          'Public rooms, the private rooms the caller is a member of (an admin: every private ' +
          'room but DMs) and their DMs. Archived rooms only with `archived=true`, which lists ' +
          'the archived rooms alone. Each room has the caller’s `unread`, `mentions`, ' +
          '`last_read` and `notify` (open mode: only with `?username=`).',
        tags: ['rooms'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            archived: { type: 'boolean', default: false },
            username: readerQuery.properties.username,
          },
        },
        response: {
          200: { type: 'array', items: { $ref: 'Room#' } },
          400: errorRef,
          429: errorRef,
          503: errorRef,
        },
      },
    },
    (request) =>
      history.listRooms(viewerOf(request), request.query.archived, readerOf(request)?.username),
  );

  app.post<{ Body: { name: string; private?: boolean } }>(
    '/api/servers',
    {
      ...(limitRoomCreation && { onRequest: limitRoomCreation }),
      schema: {
        summary: 'Create a room',
        description:
          'The name is trimmed and NFC-normalised: 1-64 characters, no control, format or ' +
          'line/paragraph separator characters (`400 invalid_room_name`). Names equal after ' +
          'NFKC and case folding are one name (`409 room_name_taken`). At most ' +
          '`ROOM_CREATE_LIMIT` a minute per user (open mode: per client address) ' +
          '(`429 rate_limited`); `403 ' +
          'origin_not_allowed` from a foreign browser origin. `private: true` makes a room ' +
          'only its members (and the admins) see; its creator is its owner and first member ' +
          '(`403 forbidden` in open mode). A name is taken when a room the caller can see has it.',
        tags: ['rooms'],
        body: {
          type: 'object',
          required: ['name'],
          additionalProperties: false,
          properties: { name: { type: 'string', minLength: 1 }, private: { type: 'boolean' } },
        },
        response: { 201: { $ref: 'Room#' }, 403: errorRef, 409: nameTaken, ...errors },
      },
    },
    async (request, reply) => {
      const name = normalizeRoomName(request.body.name);
      if (name === undefined) throw new ChatError('invalid_room_name');
      const room = await history.createRoom(name, request.body.private ?? false, viewerOf(request));
      return reply.code(201).send(room);
    },
  );

  app.get<{ Params: { id: number } }>(
    '/api/servers/:id',
    {
      schema: {
        summary: 'One room',
        tags: ['rooms'],
        params: roomIdParams,
        response: { 200: { $ref: 'Room#' }, ...errors },
      },
    },
    (request) => visibleRoom(history, request.params.id, viewerOf(request)),
  );

  app.get<{
    Params: { id: number };
    Querystring: { limit: number; before?: number; after?: number; changed_after?: number };
  }>(
    '/api/servers/:id/messages',
    {
      schema: {
        summary: 'A page of a room’s messages, oldest first, or what changed after a seq',
        description:
          'Without `after`: the newest `limit` messages with id < `before` (when given). ' +
          'With `after`: the oldest `limit` messages with id > `after`. Deleted messages are ' +
          'left out (`limit` counts what is returned). ' +
          'With `changed_after=SEQ` (not with `before`/`after`): the messages with `seq` > SEQ, ' +
          'tombstones of deleted ones included, in `seq` order. ' +
          'A page holds at most 4 MiB of JSON, so it may hold fewer than `limit`: ' +
          'page on until a page comes back empty.',
        tags: ['messages'],
        params: roomIdParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
            before: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
            after: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
            changed_after: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
          },
        },
        response: {
          200: { type: 'array', items: { anyOf: [{ $ref: 'Message#' }, { $ref: 'Tombstone#' }] } },
          ...errors,
        },
      },
    },
    async (request) => {
      const { id } = request.params;
      const { limit, before, after, changed_after: changedAfter } = request.query;
      if (changedAfter !== undefined && (before !== undefined || after !== undefined)) {
        throw new ChatError('bad_request', 'changed_after cannot be combined with before or after');
      }
      await visibleRoom(history, id, viewerOf(request));
      return history.messages({
        serverId: id,
        limit,
        before,
        after,
        changedAfter,
        maxBytes: REST_PAGE_MAX_BYTES,
      });
    },
  );

  app.get<{ Params: { id: number; message_id: number } }>(
    '/api/servers/:id/messages/:message_id',
    {
      schema: {
        summary: 'One message, with the quote of what it replies to',
        description: '`404 not_found` when the room has no such message, or it was deleted.',
        tags: ['messages'],
        params: {
          type: 'object',
          required: ['id', 'message_id'],
          properties: {
            ...roomIdParams.properties,
            message_id: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
          },
        },
        response: { 200: { $ref: 'Message#' }, ...errors },
      },
    },
    async (request) => {
      const { id, message_id: messageId } = request.params;
      await visibleRoom(history, id, viewerOf(request));
      const message = await history.message(id, messageId);
      if (!message) throw new ChatError('not_found', `No message ${messageId} in this room`);
      return message;
    },
  );

  app.get<{ Params: { id: number }; Querystring: { after?: string; limit: number } }>(
    '/api/servers/:id/presence',
    {
      schema: {
        summary: 'Usernames connected to the room on any gateway, sorted by code point',
        description:
          'The first `limit` usernames that sort after `after` (from the first without it). ' +
          'Page on with `after=` the last name until a page holds fewer than `limit`.',
        tags: ['rooms'],
        params: roomIdParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            after: { type: 'string' },
            limit: {
              type: 'integer',
              minimum: 1,
              maximum: PRESENCE_PAGE_LIMIT,
              default: PRESENCE_PAGE_LIMIT,
            },
          },
        },
        response: { 200: { type: 'array', items: { type: 'string' } }, ...errors },
      },
    },
    async (request) => {
      await visibleRoom(history, request.params.id, viewerOf(request));
      const { after, limit } = request.query;
      return presence.page(request.params.id, after, limit);
    },
  );
}
