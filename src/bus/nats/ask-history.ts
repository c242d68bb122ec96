import { ChatError, ERRORS, RateLimitedError, UnavailableError } from '../../errors.ts';
import type { ErrorCode } from '../../errors.ts';
import { reportInternalError } from '../../internal-errors.ts';
import type { NatsLink } from '../../nats/connection.ts';
import { MalformedPayloadError } from '../../nats/guards.ts';
import { parseHistoryAnswer } from '../../nats/history-ops.ts';
import type { HistoryOp, HistoryReply, HistoryRequest } from '../../nats/history-ops.ts';
import { requestInParts } from '../../nats/parts.ts';
import { historySubject } from '../../nats/subjects.ts';

/**
 * Asks the history service (any member of its queue group) one operation over NATS
 * request/reply. A refusal comes back as its ChatError; no answer, or one that does not pass its
 * checks, is `unavailable`.
 */
export async function askHistory<Op extends HistoryOp>(
  link: NatsLink,
  timeoutMs: number,
  op: Op,
  request: HistoryRequest<Op>,
): Promise<HistoryReply<Op>> {
  if (!link.isConnected()) {
    throw new UnavailableError('The history service cannot be reached: NATS is disconnected');
  }
  let answer: Uint8Array;
  try {
    answer = await requestInParts(link.nc, historySubject(op), JSON.stringify(request), timeoutMs);
  } catch (error) {
    throw new UnavailableError('The history service did not answer', { cause: error });
  }
  const reply = parseHistoryAnswer(op, answer);
  if (!reply.ok) {
    const malformed = new MalformedPayloadError(reply.reason);
    reportInternalError('history_reply', malformed);
    throw new UnavailableError('The history service did not answer', { cause: malformed });
  }
  const answered = reply.value;
  if (answered.ok) return answered.result;
  if (answered.code === 'rate_limited') {
    throw new RateLimitedError(answered.retry_after ?? 1, answered.message);
  }
  if (Object.hasOwn(ERRORS, answered.code) && answered.code !== 'unavailable') {
    throw new ChatError(answered.code as ErrorCode, answered.message);
  }
  throw new UnavailableError(answered.message);
}
