import type { Message, Tombstone } from '../domain/message.ts';

/**
 * What one transcript line holds: a message with its latest text (and when it was last edited,
 * what it replies to, its attachments), or the tombstone of a deleted one. Objects with more fields (`seq`,
 * `quote`, `mentions`, `reactions`, …) may be passed: the line leaves them out.
 */
/** What a line is made of: a message or tombstone; its seq, like its reactions, is left out. */
type WithoutSeq<T> = Omit<T, 'seq'> & { seq?: number };
export type TranscriptEntry = WithoutSeq<Message> | WithoutSeq<Tombstone>;

export function isTombstone(entry: TranscriptEntry): entry is WithoutSeq<Tombstone> {
  return 'deleted' in entry && entry.deleted === true;
}

const LINE_BREAKS = /[\u0085\u2028\u2029]/g;

/**
 * One transcript line: the entry as JSON with exactly the transcript's fields, in a fixed order
 * (a plain message: id, server_id, username, text, ts — the same bytes as before edits existed),
 * and a newline. U+2028, U+2029 and U+0085 are legal raw in JSON but are line breaks to many
 * line-splitting tools: they are escaped, so that every tool sees one line per message (parsed,
 * the line is the same entry).
 */
export function transcriptLine(entry: TranscriptEntry): string {
  const json = JSON.stringify(lineFields(entry));
  return (
    json.replace(LINE_BREAKS, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) + '\n'
  );
}

function lineFields(entry: TranscriptEntry): object {
  if (isTombstone(entry)) {
    const { id, server_id, username, ts } = entry;
    return { id, server_id, username, ts, deleted: true };
  }
  const { id, server_id, username, text, ts, edited_at, reply_to, attachments } = entry;
  // Only fields that are set: absent means none, and a plain message's line stays as it was.
  return {
    id,
    server_id,
    username,
    text,
    ts,
    ...(typeof edited_at === 'string' ? { edited_at } : {}),
    ...(typeof reply_to === 'number' ? { reply_to } : {}),
    ...(Array.isArray(attachments) && attachments.length > 0 ? { attachments } : {}),
  };
}

// Every line written starts this way; anything else is read the slow way, through JSON.parse.
const ID_PREFIX = /^\{"id":(\d{1,16})[,}]/;

/**
 * The id of a transcript line (without its newline), or undefined when the line is not an
 * entry (a file edited by hand).
 */
export function idOfLine(line: Buffer): number | undefined {
  const fast = ID_PREFIX.exec(line.subarray(0, 32).toString('latin1'));
  if (fast) return Number(fast[1]);
  try {
    const parsed = JSON.parse(line.toString('utf8')) as { id?: unknown } | null;
    return typeof parsed?.id === 'number' ? parsed.id : undefined;
  } catch {
    return undefined;
  }
}
