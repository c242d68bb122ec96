import type { JetStreamManager, StreamInfo } from '@nats-io/jetstream';
import {
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
} from '@nats-io/jetstream';
import { MESSAGE_SUBJECTS, STREAM } from './subjects.ts';

const NS_PER_MS = 1_000_000;

export interface StreamSettings {
  maxAgeMs: number;
  dedupeWindowMs: number;
}

/**
 * Creates the message stream, or brings an existing one's retention and de-duplication window
 * to the configured values. Only the history service does this (see `alignSequence`).
 */
export async function ensureStream(
  jsm: JetStreamManager,
  settings: StreamSettings,
): Promise<StreamInfo> {
  const config = {
    subjects: [MESSAGE_SUBJECTS],
    max_age: settings.maxAgeMs * NS_PER_MS,
    duplicate_window: settings.dedupeWindowMs * NS_PER_MS,
  };
  const existing = await streamInfo(jsm);
  if (!existing) {
    return jsm.streams.add({
      name: STREAM,
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      discard: DiscardPolicy.Old,
      ...config,
    });
  }
  const current = existing.config;
  if (current.max_age === config.max_age && current.duplicate_window === config.duplicate_window) {
    return existing;
  }
  return jsm.streams.update(STREAM, { ...config });
}

/**
 * Makes the stream's next sequence continue above `storedMaxId`: when the stream was recreated
 * while the store holds messages, a purge up to `storedMaxId + 1` moves its first sequence there.
 */
export async function alignSequence(jsm: JetStreamManager, storedMaxId: number): Promise<boolean> {
  const info = await jsm.streams.info(STREAM);
  if (info.state.last_seq >= storedMaxId) return false;
  await jsm.streams.purge(STREAM, { seq: storedMaxId + 1 });
  return true;
}

export async function streamInfo(jsm: JetStreamManager): Promise<StreamInfo | undefined> {
  try {
    return await jsm.streams.info(STREAM);
  } catch (error) {
    if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound) {
      return undefined;
    }
    throw error;
  }
}
