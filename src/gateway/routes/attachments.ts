import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { HistoryClient } from '../../bus/types.ts';
import {
  SNIFF_BYTES,
  contentDisposition,
  isValidAttachmentName,
  sniff,
  withUrl,
} from '../../domain/attachments.ts';
import type { AttachmentBlobs } from '../../domain/attachments.ts';
import { normalizeUsername } from '../../domain/names.ts';
import { ChatError, UnavailableError } from '../../errors.ts';
import { viewerOf } from '../auth/gate.ts';
import type { RequestLimit } from '../rate-limits.ts';
import { visibleRoom } from './rooms.ts';
import { errorRef, roomIdParams, roomNotFound } from './schemas.ts';

export interface AttachmentRoutesDeps {
  history: HistoryClient;
  blobs: AttachmentBlobs;
  /** UPLOAD_MAX_BYTES. */
  maxBytes: number;
  /** UPLOAD_RATE_LIMIT; undefined: no limit. */
  limitUploads?: RequestLimit | undefined;
}

/** What an attachment answer carries beside its bytes: downloads of what browsers could run. */
const BYTES_HEADERS = {
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'none'; sandbox",
  'cross-origin-resource-policy': 'same-origin',
  'cache-control': 'private',
};

const ID = /^[A-Za-z0-9_-]{22}$/;

/** A new attachment id: 128 random bits, URL-safe (22 characters of base64url). */
export function newAttachmentId(): string {
  return randomBytes(16).toString('base64url');
}

/**
 * Uploads and downloads. An upload streams the request body, whatever its Content-Type, to the
 * blob store (never whole in memory), counting its bytes: past UPLOAD_MAX_BYTES it stops with
 * `413 too_large` (at once when Content-Length says so) and nothing is kept. Its first bytes tell
 * its type and an image's size; the upload is recorded once its bytes are stored.
 */
export function attachmentRoutes(app: FastifyInstance, deps: AttachmentRoutesDeps): void {
  const { history, blobs, maxBytes } = deps;

  void app.register((scope, _options, done) => {
    // the body is the file: handed over as the request stream, any Content-Type or none
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, payload, parsed) => parsed(null, payload));
    // an answer sent before the body was read ends the connection: nothing waits for the rest
    scope.addHook('onSend', (request, reply, payload, next) => {
      if (!request.raw.complete) void reply.header('connection', 'close');
      next(null, payload);
    });

    scope.post<{ Params: { id: number }; Querystring: { name: string; username?: string } }>(
      '/api/servers/:id/attachments',
      {
        // any Content-Type is the file's business, even one Fastify cannot parse
        onRequest: [
          (request, _reply, next) => {
            delete request.headers['content-type'];
            next();
          },
          ...(deps.limitUploads ? [deps.limitUploads] : []),
        ],
        schema: {
          summary: 'Upload a file to a room, to send in a message',
          description:
            'The body is the file, sent as it is (any Content-Type, or none). `name`: 1-255 ' +
            'code points, no control characters, `/` or `\\` (`400 bad_request`). Past ' +
            '`UPLOAD_MAX_BYTES`: `413 too_large` (before reading when Content-Length says so). ' +
            'At most `UPLOAD_RATE_LIMIT` a minute per user (open mode: per client address; ' +
            '`429`). Open mode names the uploader with `?username=`. An upload no message takes ' +
            'within an hour is removed.',
          tags: ['attachments'],
          params: roomIdParams,
          querystring: {
            type: 'object',
            required: ['name'],
            additionalProperties: false,
            properties: { name: { type: 'string' }, username: { type: 'string' } },
          },
          response: {
            201: { $ref: 'Attachment#' },
            400: errorRef,
            404: roomNotFound,
            413: { description: '`too_large`', $ref: 'Error#' },
            429: errorRef,
            503: errorRef,
          },
        },
      },
      async (request, reply) => {
        const { name } = request.query;
        if (!isValidAttachmentName(name)) {
          throw new ChatError(
            'bad_request',
            'A file name has 1-255 characters, none of them a control character, / or \\',
          );
        }
        const uploader = uploaderOf(request);
        const declared = Number(request.headers['content-length'] ?? 0);
        if (declared > maxBytes) throw tooLarge(maxBytes);
        const viewer = viewerOf(request);
        const serverId = request.params.id;
        await visibleRoom(history, serverId, viewer);
        const id = newAttachmentId();
        const body = counted(request.raw, maxBytes);
        await storing(() => blobs.write(id, body.chunks));
        const upload = {
          id,
          name,
          size: body.size(),
          ...sniff(body.head()),
          server_id: serverId,
          uploader,
          created_at: new Date().toISOString(),
        };
        let info;
        try {
          info = await history.recordUpload(upload, viewer);
        } catch (error) {
          await blobs.remove([id]).catch(() => undefined);
          throw error;
        }
        return reply.code(201).send(withUrl(info));
      },
    );
    done();
  });

  app.get<{ Params: { id: string }; Querystring: { username?: string } }>(
    '/api/attachments/:id',
    {
      schema: {
        summary: 'The bytes of an attachment',
        description:
          'To users who can see the room of its message, and to its uploader before it is ' +
          'sent (open mode: `?username=`); else `404 attachment_not_found`, also once its ' +
          'message is deleted. Images of the four types are served `inline`, everything else ' +
          'as a download (`Content-Disposition: attachment`), with `nosniff` and a sandboxing ' +
          'Content-Security-Policy. Not counted in `REST_RATE_LIMIT`.',
        tags: ['attachments'],
        params: {
          type: 'object',
          required: ['id'],
          properties: { id: { type: 'string', maxLength: 64 } },
        },
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { username: { type: 'string' } },
        },
        response: {
          200: { description: 'the bytes', type: 'string', format: 'binary' },
          400: errorRef,
          404: { description: '`attachment_not_found`', $ref: 'Error#' },
          503: errorRef,
        },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const viewer = viewerOf(request);
      const username = viewer?.username ?? normalizeUsername(request.query.username) ?? null;
      const info = ID.test(id) ? await history.attachment(id, viewer, username) : undefined;
      const bytes = info && (await storing(() => blobs.read(id)));
      if (!info || !bytes) throw new ChatError('attachment_not_found');
      return reply
        .headers({
          ...BYTES_HEADERS,
          'content-type': info.type,
          'content-length': String(info.size),
          'content-disposition': contentDisposition(info),
        })
        .send(bytes);
    },
  );
}

/** Who uploads: the credentials' user; in open mode `?username=` (required). */
function uploaderOf(request: FastifyRequest<{ Querystring: { username?: string } }>): string {
  const viewer = viewerOf(request);
  if (viewer) return viewer.username;
  const username = normalizeUsername(request.query.username);
  if (username === undefined) {
    throw new ChatError('bad_request', 'An upload needs ?username= (1-32 characters) in open mode');
  }
  return username;
}

/** A blob store's fault (NATS down, a full disk) is `503 unavailable`; a refusal stays one. */
async function storing<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof ChatError) throw error;
    throw new UnavailableError('The attachment store cannot be reached right now', {
      cause: error,
    });
  }
}

function tooLarge(maxBytes: number): ChatError {
  return new ChatError(
    'too_large',
    `An attachment has at most ${maxBytes} bytes (UPLOAD_MAX_BYTES)`,
  );
}

/**
 * The request body as it arrives, counted: past `maxBytes` it throws `too_large` (the request
 * stream itself is left open, so that the 413 can still be answered), and keeps its first
 * SNIFF_BYTES for `sniff`.
 */
function counted(raw: Readable, maxBytes: number) {
  let size = 0;
  const head: Buffer[] = [];
  let headBytes = 0;
  async function* chunks(): AsyncGenerator<Uint8Array> {
    for await (const chunk of raw.iterator({ destroyOnReturn: false })) {
      const bytes = chunk as Buffer;
      size += bytes.length;
      if (size > maxBytes) throw tooLarge(maxBytes);
      if (headBytes < SNIFF_BYTES) {
        head.push(bytes.subarray(0, SNIFF_BYTES - headBytes));
        headBytes += Math.min(bytes.length, SNIFF_BYTES - headBytes);
      }
      yield bytes;
    }
  }
  return { chunks: chunks(), size: () => size, head: () => Buffer.concat(head) };
}
