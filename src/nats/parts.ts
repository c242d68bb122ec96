/**
 * History answers of any size over NATS request/reply. A NATS message holds at most the
 * server's `max_payload` bytes (headers included; 1 MiB by default, but an operator may set any
 * value), while a history answer may be a 4 MiB page of messages or the list of every room. So
 * the responder sends every answer as parts of at most `max_payload` less room for headers, each
 * with the header `Chatroom-Part: i/n`, and the asker joins the bytes of parts 1..n. An answer
 * that is not whole within the request timeout (its responder died, or a part was lost) fails.
 */
import { headers } from '@nats-io/transport-node';
import type { Msg, NatsConnection } from '@nats-io/transport-node';

export const PART_HEADER = 'Chatroom-Part';

/** Bytes of each message kept for headers: `Chatroom-Part: 12/34` and the framing take ~40. */
const HEADER_ROOM = 512;
/** Below this a `max_payload` is a misconfiguration, not something to work around. */
const MIN_PART_BYTES = 1024;

const PART = /^(\d{1,9})\/(\d{1,9})$/;
const encoder = new TextEncoder();

/** The payload bytes of one part on a connection to this server. */
export function partBytes(maxPayload: number): number {
  const size = maxPayload - HEADER_ROOM;
  if (size < MIN_PART_BYTES) {
    throw new Error(`the NATS server's max_payload (${maxPayload} bytes) is too small`);
  }
  return size;
}

/** Answers `request` with `body`, split into as many parts as the server's limit needs. */
export function respondInParts(nc: NatsConnection, request: Msg, body: string): void {
  const maxPayload = nc.info?.max_payload;
  if (maxPayload === undefined) throw new Error('not connected to a NATS server');
  const size = partBytes(maxPayload);
  const data = encoder.encode(body);
  const parts = Math.max(1, Math.ceil(data.length / size));
  for (let i = 0; i < parts; i++) {
    const part = headers();
    part.set(PART_HEADER, `${i + 1}/${parts}`);
    request.respond(data.subarray(i * size, (i + 1) * size), { headers: part });
  }
}

/**
 * Sends a request and resolves with the whole answer's bytes. Rejects when no responder
 * listens, when the parts do not arrive in order, or when the answer is not whole within
 * `timeoutMs`.
 */
export async function requestInParts(
  nc: NatsConnection,
  subject: string,
  body: string,
  timeoutMs: number,
): Promise<Uint8Array> {
  // one responder (a queue group) sends every part, on one connection: they arrive in order
  const replies = await nc.requestMany(subject, body, { strategy: 'timer', maxWait: timeoutMs });
  const received: Uint8Array[] = [];
  let parts: number | undefined;
  for await (const msg of replies) {
    const part = PART.exec(msg.headers?.get(PART_HEADER) ?? '');
    const index = Number(part?.[1]);
    const count = Number(part?.[2]);
    if (!part || index !== received.length + 1 || count < index || (parts ?? count) !== count) {
      throw new Error(`an answer part is out of order or unmarked: ${JSON.stringify(part?.[0])}`);
    }
    parts = count;
    received.push(msg.data.slice());
    // leaving the loop ends the request (its subscription and timer) at once
    if (received.length === parts) return join(received);
  }
  throw new Error(
    parts === undefined
      ? `no answer within ${timeoutMs} ms`
      : `${received.length} of ${parts} parts of the answer arrived within ${timeoutMs} ms`,
  );
}

function join(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const whole = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    whole.set(part, offset);
    offset += part.length;
  }
  return whole;
}
