/**
 * Errors caught where they would otherwise end the process: in a NATS callback, a timer, a bus
 * listener, or nowhere at all (an unhandled rejection, an uncaught exception); and payloads from
 * NATS that did not pass their checks (they are dropped, or answered with an error). Each is logged
 * with where it happened and counted in `chatroom_internal_errors_total{where}`; the process
 * goes on. One failing request, frame or tick must not take every room down with it, nor, when
 * the input that made it fail is read again after a restart, keep the process down.
 */
import type { FastifyBaseLogger } from 'fastify';
import client from 'prom-client';
import pino from 'pino';

const PLACES = [
  'history_request',
  'history_reply',
  'stream_message',
  'access_event',
  'room_event',
  'bus_listener',
  'bus_event',
  'presence_heartbeat',
  'unhandled_rejection',
  'uncaught_exception',
] as const;
export type InternalErrorPlace = (typeof PLACES)[number];

/** Process-wide: every gateway registry of the process shows it (see `createMetrics`). */
export const internalErrors = new client.Counter<'where'>({
  name: 'chatroom_internal_errors_total',
  help: 'Errors caught in a handler or timer, or unhandled, that did not stop the process, by place',
  labelNames: ['where'],
  registers: [],
});
// every place shows 0 from the start, so that an alert on its increase sees the first error
for (const where of PLACES) internalErrors.inc({ where }, 0);

// until `main.ts` gives the process its logger (tests that build parts by hand)
let processLog: FastifyBaseLogger = pino({ level: 'error' });

export function reportInternalError(
  where: InternalErrorPlace,
  error: unknown,
  log: FastifyBaseLogger = processLog,
): void {
  internalErrors.inc({ where });
  log.error({ err: error, where }, 'internal error caught; the process goes on');
}

/** `fn`, but an error it throws is reported instead of thrown (for callbacks and timers). */
export function guarded<A extends unknown[]>(
  where: InternalErrorPlace,
  log: FastifyBaseLogger,
  fn: (...args: A) => void,
): (...args: A) => void {
  return (...args) => {
    try {
      fn(...args);
    } catch (error) {
      reportInternalError(where, error, log);
    }
  };
}

/**
 * Logs and counts unhandled rejections and uncaught exceptions instead of letting Node end the
 * process. Every callback and timer of chatroom is guarded, so what reaches here is a fault
 * nobody foresaw; it is logged with its stack (alert on the counter) and the process keeps
 * serving: `SIGTERM` still stops it cleanly.
 */
export function watchProcessErrors(log: FastifyBaseLogger): void {
  processLog = log;
  process.on('unhandledRejection', (reason) => reportInternalError('unhandled_rejection', reason));
  process.on('uncaughtException', (error) => reportInternalError('uncaught_exception', error));
}
