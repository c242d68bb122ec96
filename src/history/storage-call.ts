import type { StateEvent } from '../domain/access-events.ts';
import { ChatError, UnavailableError } from '../errors.ts';
import { refusalError } from './refusals.ts';
import type { StateEventLog } from './state-log.ts';

/** A synchronous store call; a storage fault (a full disk) is `unavailable`. */
export function storageCall<T>(work: () => T): T {
  try {
    return work();
  } catch (error) {
    if (error instanceof ChatError) throw error;
    throw new UnavailableError(undefined, { cause: error });
  }
}

/** Hands an event to the log; a refusal becomes its ChatError, a fault `unavailable`. */
export async function applyEvent(log: StateEventLog, event: StateEvent): Promise<void> {
  let result;
  try {
    result = await log(event);
  } catch (error) {
    if (error instanceof ChatError) throw error;
    throw new UnavailableError(undefined, { cause: error });
  }
  if (!result.ok) throw refusalError(result.refusal);
}
