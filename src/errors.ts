/**
 * The error catalogue: every error code the server sends, in a REST body or an `error` frame,
 * with its HTTP status where it is a REST error and whether it is an `error` frame code on the
 * WebSocket. The README lists exactly these codes and a test checks that it does. (WebSocket close
 * codes are part of the protocol: `CLOSE` in protocol.ts.)
 */
export const ERRORS = {
  bad_request: { status: 400, frame: true, message: 'The request is malformed' },
  empty: { status: 400, frame: true, message: 'A message needs at least one visible character' },
  too_long: { status: 400, frame: true, message: 'The message is longer than allowed' },
  rate_limited: { status: 429, frame: true, message: 'Too many messages; slow down' },
  unavailable: {
    status: 503,
    frame: true,
    message: 'Storage cannot be reached right now; retry (with the same client_id for messages)',
  },
  invalid_room_name: {
    status: 400,
    frame: false,
    message:
      'A room name has 1-64 characters and no control, format or line/paragraph separator characters',
  },
  room_not_found: { status: 404, frame: false, message: 'No such room' },
  room_name_taken: {
    status: 409,
    frame: false,
    message: 'A room with that name (ignoring case and lookalike characters) already exists',
  },
  not_found: {
    status: 404,
    frame: true,
    message: 'No such route (frame: no such message in this room, or it was deleted)',
  },
  edit_window: {
    status: 400,
    frame: true,
    message: 'The message is too old to edit (EDIT_WINDOW)',
  },
  bad_emoji: {
    status: 400,
    frame: true,
    message: 'A reaction is exactly one emoji (Unicode RGI_Emoji)',
  },
  too_many_reactions: {
    status: 400,
    frame: true,
    message: 'A message has at most 20 distinct emoji and 1000 reactions',
  },
  bad_reply: {
    status: 400,
    frame: true,
    message: 'reply_to must be a message of this room that is not deleted',
  },
  origin_not_allowed: {
    status: 403,
    frame: false,
    message: 'Browser requests from this origin are not allowed',
  },
  bad_query: {
    status: 400,
    frame: false,
    message: 'A search query has 1-200 characters, at most 10 terms, and a word, a phrase or from:',
  },
  internal: { status: 500, frame: false, message: 'Something went wrong on the server' },
  unauthenticated: {
    status: 401,
    frame: false,
    message: 'Sign in first: a session cookie or an Authorization: Bearer token is needed',
  },
  invalid_credentials: {
    status: 401,
    frame: false,
    message: 'Wrong username or password',
  },
  invite_required: { status: 403, frame: false, message: 'Registration needs an invite code' },
  invalid_invite: {
    status: 403,
    frame: false,
    message: 'The invite code is unknown, revoked or expired',
  },
  registration_closed: { status: 403, frame: false, message: 'Registration is closed' },
  invalid_username: {
    status: 400,
    frame: false,
    message:
      'A username has 1-32 characters and no control, format or line/paragraph separator characters',
  },
  weak_password: {
    status: 400,
    frame: false,
    message: 'A password has 8-256 characters',
  },
  username_taken: { status: 409, frame: false, message: 'That username is taken' },
  user_disabled: { status: 403, frame: false, message: 'This account is disabled' },
  user_not_found: { status: 404, frame: false, message: 'No such user' },
  forbidden: { status: 403, frame: true, message: 'You may not do that' },
  bad_attachment: {
    status: 400,
    frame: true,
    message:
      'attachments must be 1-10 ids, each uploaded by you to this room and in no other message',
  },
  attachment_not_found: { status: 404, frame: false, message: 'No such attachment' },
  too_large: { status: 413, frame: false, message: 'The upload is larger than UPLOAD_MAX_BYTES' },
} as const;

export type ErrorCode = keyof typeof ERRORS;

/** An error that the API reports to its caller with a code from the catalogue. */
export class ChatError extends Error {
  override name = 'ChatError';
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string = ERRORS[code].message,
    /** `status`: where the contract answers a code with another status than its usual one. */
    options?: { cause?: unknown; status?: number },
  ) {
    super(message, options);
    this.status = options?.status ?? ERRORS[code].status;
  }
}

/** `429 rate_limited`: the caller may try again after `retryAfterSeconds` (`Retry-After`). */
export class RateLimitedError extends ChatError {
  override name = 'RateLimitedError';
  constructor(
    readonly retryAfterSeconds: number,
    message: string = ERRORS.rate_limited.message,
  ) {
    super('rate_limited', message);
  }
}

/** Storage (the history service or the bus) did not answer; the caller may retry. */
export class UnavailableError extends ChatError {
  override name = 'UnavailableError';
  constructor(message: string = ERRORS.unavailable.message, options?: { cause?: unknown }) {
    super('unavailable', message, options);
  }
}
