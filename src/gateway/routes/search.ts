import type { FastifyInstance } from 'fastify';
import type { HistoryClient } from '../../bus/types.ts';
import {
  SEARCH_DEFAULT_LIMIT,
  SEARCH_MAX_LIMIT,
  parseSearchQuery,
} from '../../domain/search-query.ts';
import { ChatError } from '../../errors.ts';
import { REST_PAGE_MAX_BYTES } from '../../protocol.ts';
import { viewerOf } from '../auth/gate.ts';
import { errorRef } from './schemas.ts';

/** `GET /api/search`'s answer (SearchPage in src/domain/history.ts). */
export const searchPageSchema = {
  $id: 'SearchPage',
  type: 'object',
  required: ['results', 'more'],
  properties: {
    results: {
      type: 'array',
      items: {
        type: 'object',
        required: ['message', 'room', 'matches'],
        properties: {
          message: { $ref: 'Message#' },
          room: {
            type: 'object',
            required: ['id', 'name'],
            properties: {
              id: { type: 'integer', minimum: 1 },
              name: { type: ['string', 'null'], description: 'null for a direct message' },
            },
          },
          matches: {
            type: 'array',
            description:
              '[start, end) offsets in code points into `message.text` of each matched word, in order',
            items: {
              type: 'array',
              items: { type: 'integer', minimum: 0 },
              minItems: 2,
              maxItems: 2,
            },
          },
        },
      },
    },
    more: {
      type: 'boolean',
      description: 'older results follow: ask again with `before=` the last result’s message id',
    },
  },
} as const;

const DESCRIPTION =
  'Messages the caller may read now (public rooms, their private rooms and DMs), not deleted, ' +
  'on their current text, newest first. In `q`: `word` (whole word; case and diacritics ' +
  'ignored), `word*` (a word starting so, 2 or more characters before `*`), `"two words"` ' +
  '(next to each other, in order), `from:alice` / `from:"alice smith"` (the author, case ' +
  'ignored), `in:general` / `in:"team room"` (the room, case ignored; one the caller cannot ' +
  'see finds nothing). Terms combine with AND. `q`: 1-200 code points, at most 10 terms, at ' +
  'least one word, phrase or `from:`, else `400 bad_query`. Page on with `before=` the last ' +
  'result’s id while `more`. A page holds at most 4 MiB of JSON (then fewer than `limit`). ' +
  'Open mode: `username` may be given and changes nothing (only public rooms exist there).';

/** Search over the messages the caller may read (contract, "Search"). */
export function searchRoutes(app: FastifyInstance, history: HistoryClient): void {
  app.get<{ Querystring: { q?: string; limit: number; before?: number } }>(
    '/api/search',
    {
      schema: {
        summary: 'Search messages',
        description: DESCRIPTION,
        tags: ['messages'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            q: { type: 'string', description: 'the query (see above)' },
            limit: {
              type: 'integer',
              minimum: 1,
              maximum: SEARCH_MAX_LIMIT,
              default: SEARCH_DEFAULT_LIMIT,
            },
            before: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
            username: { type: 'string', description: 'open mode: the caller (changes nothing)' },
          },
        },
        response: {
          200: { $ref: 'SearchPage#' },
          400: {
            description: '`bad_query` (the query), `bad_request` (limit, before)',
            $ref: 'Error#',
          },
          429: errorRef,
          503: errorRef,
        },
      },
    },
    (request) => {
      const { q, limit, before } = request.query;
      // refused here, before storage is asked: a bad query is 400 even while storage is away
      const parsed = parseSearchQuery(q);
      if (!parsed.ok) throw new ChatError('bad_query', parsed.reason);
      return history.search({
        q: q as string,
        viewer: viewerOf(request),
        limit,
        before,
        maxBytes: REST_PAGE_MAX_BYTES,
      });
    },
  );
}
