/** JSON schemas shared by the REST routes; they validate requests and make `/openapi.json`. */
export const roomSchema = {
  $id: 'Room',
  type: 'object',
  required: ['id', 'name', 'created_at'],
  properties: {
    id: { type: 'integer', minimum: 1 },
    name: { type: 'string' },
    created_at: { type: 'string', format: 'date-time' },
  },
} as const;

export const messageSchema = {
  $id: 'Message',
  type: 'object',
  required: ['id', 'server_id', 'username', 'text', 'ts'],
  properties: {
    id: { type: 'integer', minimum: 1 },
    server_id: { type: 'integer', minimum: 1 },
    username: { type: 'string' },
    text: { type: 'string' },
    ts: { type: 'string', format: 'date-time' },
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

export const roomIdParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER } },
} as const;
