import type { JetStreamManager, StreamInfo } from '@nats-io/jetstream';
import {
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
} from '@nats-io/jetstream';
import { MESSAGE_SUBJECTS, STREAM, messageSubject } from './subjects.ts';

const NS_PER_MS = 1_000_000;

export interface StreamSettings {
  maxAgeMs: number;
  dedupeWindowMs: number;
}

/** Where a stream being created listens until its sequence is set: no gateway publishes here. */
const SETUP_SUBJECT = 'chatroom.stream-setup';

/**
 * Creates the message stream, or brings an existing one's retention and de-duplication window
 * to the configured values, and makes its next sequence continue above `storedMaxId` (the
 * store's newest message id). Only the history service does this.
 *
 * A new stream is created listening on a subject nobody publishes to, moved above the store, and
 * only then given `chat.*`: a gateway's publish can never take a sequence at or below a stored
 * id (it would be purged, or clash with a stored message). Returns whether the sequence moved.
 */
export async function ensureStream(
  jsm: JetStreamManager,
  settings: StreamSettings,
  storedMaxId: number,
): Promise<boolean> {
  const config = {
    subjects: [MESSAGE_SUBJECTS],
    max_age: settings.maxAgeMs * NS_PER_MS,
    duplicate_window: settings.dedupeWindowMs * NS_PER_MS,
  };
  const existing = await streamInfo(jsm);
  if (!existing) {
    await jsm.streams.add({
      name: STREAM,
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      discard: DiscardPolicy.Old,
      ...config,
      subjects: [SETUP_SUBJECT],
    });
    const moved = await alignSequence(jsm, storedMaxId);
    await jsm.streams.update(STREAM, config);
    return moved;
  }
  const current = existing.config;
  const settled =
    current.max_age === config.max_age &&
    current.duplicate_window === config.duplicate_window &&
    current.subjects?.length === 1 &&
    current.subjects[0] === MESSAGE_SUBJECTS;
  if (!settled) await jsm.streams.update(STREAM, config);
  // a stream made by someone else (or by a setup that stopped half-way) may still be behind
  return alignSequence(jsm, storedMaxId);
}

/**
 * Makes the stream's next sequence continue above `storedMaxId`: a purge up to
 * `storedMaxId + 1` moves its first sequence there.
 */
async function alignSequence(jsm: JetStreamManager, storedMaxId: number): Promise<boolean> {
  const info = await jsm.streams.info(STREAM);
  if (info.state.last_seq >= storedMaxId) return false;
  await jsm.streams.purge(STREAM, { seq: storedMaxId + 1 });
  return true;
}

/** The stream's state; undefined when there is no stream. */
export async function streamInfo(jsm: JetStreamManager): Promise<StreamInfo | undefined> {
  try {
    return await jsm.streams.info(STREAM);
  } catch (error) {
    if (isJetStreamError(error, JetStreamApiCodes.StreamNotFound)) return undefined;
    throw error;
  }
}

/** The stream sequence of a room's newest message; 0 when it has none, or there is no stream. */
export async function lastSeqOf(jsm: JetStreamManager, serverId: number): Promise<number> {
  try {
    // a room without messages is `null` (nats.js answers NoMessageFound so)
    const stored = await jsm.streams.getMessage(STREAM, { last_by_subj: messageSubject(serverId) });
    return stored?.seq ?? 0;
  } catch (error) {
    if (
      isJetStreamError(error, JetStreamApiCodes.StreamNotFound, JetStreamApiCodes.NoMessageFound)
    ) {
      return 0;
    }
    throw error;
  }
}

/** True when JetStream refused a request with one of these API error codes. */
export function isJetStreamError(error: unknown, ...codes: JetStreamApiCodes[]): boolean {
  return error instanceof JetStreamApiError && (codes as number[]).includes(error.code);
}
