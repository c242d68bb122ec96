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
  not_found: { status: 404, frame: false, message: 'No such route' },
  origin_not_allowed: {
    status: 403,
    frame: false,
    message: 'Browser requests from this origin are not allowed',
  },
  internal: { status: 500, frame: false, message: 'Something went wrong on the server' },
} as const;

export type ErrorCode = keyof typeof ERRORS;

/** An error that the API reports to its caller with a code from the catalogue. */
export class ChatError extends Error {
  override name = 'ChatError';
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string = ERRORS[code].message,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.status = ERRORS[code].status;
  }
}

/** Storage (the history service or the bus) did not answer; the caller may retry. */
export class UnavailableError extends ChatError {
  override name = 'UnavailableError';
  constructor(message: string = ERRORS.unavailable.message, options?: { cause?: unknown }) {
    super('unavailable', message, options);
  }
}
