/**
 * A chat message as the stream holds it. Anyone who may publish on `chat.*` can put anything
 * there, so both readers of the stream (the gateways' live feed and the history service) read a
 * stream message through `readStreamMessage` and skip what does not pass.
 */
import type { JsMsg } from '@nats-io/jetstream';
import { isInteger, isString, objectOf, optional, parsePayload } from './guards.ts';
import type { Parsed } from './guards.ts';
import { messageSubject } from './subjects.ts';

/** What a message carries in the stream; the id is the stream sequence, not in the payload. */
export interface StreamPayload {
  server_id: number;
  username: string;
  text: string;
  ts: string;
  client_id?: string;
}

const isStreamPayload = objectOf<StreamPayload>({
  server_id: isInteger,
  username: isString,
  text: isString,
  ts: isString,
  client_id: optional(isString),
});

/** The payload of a stream message, checked, and on the subject of its own room. */
export function readStreamMessage(
  msg: Pick<JsMsg, 'data' | 'subject' | 'seq'>,
): Parsed<StreamPayload> {
  const parsed = parsePayload(msg.data, isStreamPayload, `stream message ${msg.seq}`);
  if (parsed.ok && msg.subject !== messageSubject(parsed.value.server_id)) {
    return { ok: false, reason: `stream message ${msg.seq} is on another room's subject` };
  }
  return parsed;
}
