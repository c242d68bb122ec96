/** JSON schemas of the accounts routes (see schemas.ts for the shared ones). */
import type { ErrorCode } from '../../errors.ts';

export const userSchema = {
  $id: 'User',
  type: 'object',
  required: ['username', 'admin', 'created_at'],
  properties: {
    username: { type: 'string' },
    admin: { type: 'boolean' },
    disabled: { type: 'boolean' },
    created_at: { type: 'string', format: 'date-time' },
  },
} as const;

export const tokenSchema = {
  $id: 'Token',
  type: 'object',
  required: ['id', 'name', 'created_at'],
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    created_at: { type: 'string', format: 'date-time' },
  },
} as const;

export const newTokenSchema = {
  $id: 'NewToken',
  type: 'object',
  required: ['id', 'name', 'token', 'created_at'],
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    token: {
      type: 'string',
      description: 'The secret: shown only in this answer. Send it as `Authorization: Bearer`.',
    },
    created_at: { type: 'string', format: 'date-time' },
  },
} as const;

export const inviteSchema = {
  $id: 'Invite',
  type: 'object',
  required: ['code', 'expires_at'],
  properties: {
    code: { type: 'string', description: 'The page takes it as `/?invite=CODE`' },
    expires_at: { type: 'string', format: 'date-time' },
  },
} as const;

export const userRef = { $ref: 'User#' } as const;

/** A JSON object of exactly these string fields (`optional` ones may be missing). */
export function stringFields(required: readonly string[], optional: readonly string[] = []) {
  return {
    type: 'object',
    required,
    additionalProperties: false,
    properties: Object.fromEntries(
      [...required, ...optional].map((name) => [name, { type: 'string' }]),
    ),
  } as const;
}

export const noContent = { type: 'null', description: 'No content' } as const;

/**
 * Error answers of a route by status, each described in the OpenAPI document by the codes it
 * may carry (`{"403": ["invite_required", "invalid_invite"]}`).
 */
export function errorAnswers(byStatus: Record<number, readonly ErrorCode[]>) {
  return Object.fromEntries(
    Object.entries(byStatus).map(([status, codes]) => [
      status,
      { description: describeCodes(codes), $ref: 'Error#' },
    ]),
  );
}

export function describeCodes(codes: readonly ErrorCode[]): string {
  return codes.map((code) => `\`${code}\``).join(', ');
}
