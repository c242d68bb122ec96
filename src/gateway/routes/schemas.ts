/** JSON schemas shared by the REST routes; they validate requests and make `/openapi.json`. */
export const roomSchema = {
  $id: 'Room',
  type: 'object',
  required: ['id', 'name', 'created_at', 'private', 'dm', 'archived', 'owner'],
  properties: {
    id: { type: 'integer', minimum: 1 },
    name: { type: ['string', 'null'], description: 'null for a direct message' },
    created_at: { type: 'string', format: 'date-time' },
    private: {
      type: 'boolean',
      description: 'visible only to its members and the admins (a DM: to its two members)',
    },
    dm: { type: 'boolean', description: 'a direct message between two users' },
    archived: { type: 'boolean', description: 'read-only: new messages are refused' },
    owner: {
      type: ['string', 'null'],
      description: 'who may manage it besides the admins: its creator; null for DMs',
    },
    members: {
      type: 'array',
      items: { type: 'string' },
      description: 'a DM’s two members, sorted (DMs only)',
    },
    unread: {
      type: 'integer',
      minimum: 0,
      maximum: 1000,
      description:
        'the caller’s messages after `last_read`, not deleted, not their own (1000: 1000 or more); 0 for a room that is not one of theirs',
    },
    mentions: {
      type: 'integer',
      minimum: 0,
      maximum: 1000,
      description: 'those of them that mention the caller or the room, or are in a DM',
    },
    last_read: { type: 'integer', minimum: 0, description: 'the caller’s read marker' },
    notify: {
      type: 'string',
      enum: ['all', 'mentions', 'none'],
      description: 'the caller’s notification level for the room',
    },
  },
} as const;

/** An attachment's answer (the upload's, and each entry of a message's `attachments`). */
export const attachmentSchema = {
  $id: 'Attachment',
  type: 'object',
  required: ['id', 'name', 'type', 'size', 'url'],
  properties: {
    id: { type: 'string', description: 'URL-safe, 128 random bits' },
    name: { type: 'string' },
    type: {
      type: 'string',
      description:
        'image/png, image/jpeg, image/gif or image/webp when the bytes begin as one; else application/octet-stream',
    },
    size: { type: 'integer', minimum: 0, description: 'bytes' },
    width: { type: 'integer', minimum: 1, description: 'pixels (images)' },
    height: { type: 'integer', minimum: 1, description: 'pixels (images)' },
    url: { type: 'string', description: '/api/attachments/{id}' },
  },
} as const;

export const messageSchema = {
  $id: 'Message',
  type: 'object',
  required: ['id', 'server_id', 'username', 'text', 'ts', 'seq'],
  properties: {
    id: { type: 'integer', minimum: 1 },
    server_id: { type: 'integer', minimum: 1 },
    username: { type: 'string' },
    text: { type: 'string' },
    ts: { type: 'string', format: 'date-time' },
    seq: { type: 'integer', minimum: 1, description: 'the seq of the latest change to it' },
    edited_at: { type: 'string', format: 'date-time' },
    reply_to: { type: 'integer', minimum: 1 },
    quote: {
      type: 'object',
      required: ['username', 'text'],
      properties: { username: { type: 'string' }, text: { type: 'string' } },
    },
    reactions: {
      type: 'array',
      items: {
        type: 'object',
        required: ['emoji', 'count', 'users'],
        properties: {
          emoji: { type: 'string' },
          count: { type: 'integer' },
          users: { type: 'array', items: { type: 'string' } },
        },
      },
    },
    attachments: {
      type: 'array',
      items: { $ref: 'Attachment#' },
      description: '1-10 files, in the order sent (`text` may then be "")',
    },
    mentions: {
      type: 'array',
      items: { type: 'string' },
      description: 'users the text mentions (`@NAME`), sorted by code point, each once',
    },
    mention_room: {
      type: 'boolean',
      const: true,
      description: 'only when the text mentions `@room` or `@everyone`',
    },
  },
} as const;

/** What `PUT …/read` answers (and `PUT …/notify`, with `notify`). */
export const unreadCountsSchema = {
  $id: 'UnreadCounts',
  type: 'object',
  required: ['server_id', 'unread', 'mentions', 'last_read'],
  properties: {
    server_id: { type: 'integer', minimum: 1 },
    unread: { type: 'integer', minimum: 0, maximum: 1000 },
    mentions: { type: 'integer', minimum: 0, maximum: 1000 },
    last_read: { type: 'integer', minimum: 0 },
    notify: { type: 'string', enum: ['all', 'mentions', 'none'] },
  },
} as const;

/** What remains of a deleted message. */
export const tombstoneSchema = {
  $id: 'Tombstone',
  type: 'object',
  required: ['id', 'server_id', 'username', 'ts', 'seq', 'deleted'],
  properties: {
    id: { type: 'integer', minimum: 1 },
    server_id: { type: 'integer', minimum: 1 },
    username: { type: 'string' },
    ts: { type: 'string', format: 'date-time' },
    seq: { type: 'integer', minimum: 1 },
    deleted: { type: 'boolean', const: true },
  },
} as const;

export const errorSchema = {
  $id: 'Error',
  type: 'object',
  required: ['statusCode', 'code', 'error', 'message'],
  properties: {
    statusCode: { type: 'integer' },
    code: { type: 'string' },
    error: { type: 'string' },
    message: { type: 'string' },
  },
} as const;

export const errorRef = { $ref: 'Error#' } as const;
/** The refusals of a room route, named in the OpenAPI document. */
export const roomNotFound = {
  description: '`room_not_found`: no such room, or one the caller may not see (the same answer)',
  $ref: 'Error#',
} as const;
export const nameTaken = {
  description: '`room_name_taken`: a room the caller can see has that name',
  $ref: 'Error#',
} as const;

export const roomIdParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER } },
} as const;

/** `GET /api/config` (ClientConfig in src/protocol.ts). */
export const clientConfigSchema = {
  type: 'object',
  required: [
    'max_message_chars',
    'max_username_chars',
    'max_room_name_chars',
    'history_replay',
    'rate_limit',
  ],
  additionalProperties: false,
  properties: {
    max_message_chars: {
      type: 'integer',
      minimum: 1,
      description: 'MAX_MESSAGE_CHARS: the longest message text, in Unicode code points',
    },
    max_username_chars: {
      type: 'integer',
      minimum: 1,
      description: 'the longest username, in code points after trimming',
    },
    max_room_name_chars: {
      type: 'integer',
      minimum: 1,
      description: 'the longest room name, in code points',
    },
    history_replay: {
      type: 'integer',
      minimum: 0,
      description: 'HISTORY_REPLAY: messages replayed to a client that joins without since',
    },
    rate_limit: {
      type: 'integer',
      minimum: 0,
      description:
        'RATE_LIMIT: message frames per second one connection may send (a bucket of twice that); 0: no limit',
    },
  },
} as const;
