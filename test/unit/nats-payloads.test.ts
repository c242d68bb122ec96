/**
 * The checks of what arrives over NATS (src/nats/history-ops.ts, stream-message.ts and
 * bus/nats/room-events.ts): what another process sent is used only once it passed them.
 */
import { describe, expect, it } from 'vitest';
import { isRoomEvent } from '../../src/bus/nats/room-events.ts';
import type { RoomEvent } from '../../src/bus/types.ts';
import type { Message } from '../../src/domain/message.ts';
import type { Room } from '../../src/domain/rooms.ts';
import {
  isHistoryOp,
  parseHistoryAnswer,
  parseHistoryRequest,
} from '../../src/nats/history-ops.ts';
import { readStreamMessage } from '../../src/nats/stream-message.ts';

const bytes = (value: unknown) =>
  new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value));

const room: Room = {
  id: 1,
  name: 'general',
  created_at: '2026-01-01T00:00:00.000Z',
  private: false,
  dm: false,
  archived: false,
  owner: null,
};
const message: Message = { id: 7, server_id: 1, username: 'ann', text: 'hi', ts: room.created_at };

describe('history requests', () => {
  it('knows the operations and nothing else', () => {
    for (const op of [
      'rooms',
      'room_count',
      'room',
      'create_room',
      'messages',
      'replay',
      'status',
    ]) {
      expect(isHistoryOp(op)).toBe(true);
    }
    for (const op of ['', 'toString', '__proto__', 'constructor', 'room.s', 'ROOMS']) {
      expect(isHistoryOp(op)).toBe(false);
    }
  });

  it('passes well-formed requests as they are', () => {
    const cases = [
      ['rooms', { viewer: null, archived: false }],
      ['rooms', { viewer: { username: 'ann', admin: true }, archived: true }],
      ['room', { id: 3, viewer: null }],
      ['create_room', { name: 'random', private: false, viewer: null }],
      ['create_room', { name: 'quiet', private: true, viewer: { username: 'ann', admin: false } }],
      [
        'update_room',
        { id: 3, update: { archived: true }, viewer: { username: 'a', admin: true } },
      ],
      ['open_dm', { username: 'bob', viewer: { username: 'ann', admin: false } }],
      ['messages', { serverId: 1, limit: 50 }],
      ['messages', { serverId: 1, limit: 50, before: 9, after: 2, maxBytes: 4096 }],
      ['replay', { serverId: 1, replayCount: 50, sinceLimit: 1000, maxBytes: 1e6 }],
      ['replay', { serverId: 1, since: 0, replayCount: 50, sinceLimit: 1000, maxBytes: 1e6 }],
      ['status', {}],
    ] as const;
    for (const [op, request] of cases) {
      expect(parseHistoryRequest(op, bytes(request)), op).toEqual({ ok: true, value: request });
    }
  });

  it('refuses what is not JSON, not an object, or has a field of the wrong type', () => {
    const cases = [
      ['rooms', 'not json'],
      ['rooms', '[]'],
      ['status', 'null'],
      ['room', {}],
      ['room', { id: '3' }],
      ['room', { id: 1.5 }],
      ['room', { id: 2 ** 60 }],
      ['create_room', { name: 5 }],
      ['messages', { serverId: 1 }],
      ['messages', { serverId: 1, limit: 50, before: 'x' }],
      ['messages', { serverId: 1, limit: 50, maxBytes: null }],
      ['replay', { serverId: 1, replayCount: 50, sinceLimit: 1000 }],
      ['replay', { serverId: 1, since: '4', replayCount: 50, sinceLimit: 1000, maxBytes: 1 }],
    ] as const;
    for (const [op, request] of cases) {
      const parsed = parseHistoryRequest(op, bytes(request));
      expect(parsed, `${op} ${JSON.stringify(request)}`).toMatchObject({ ok: false });
      if (!parsed.ok) expect(parsed.reason).toContain(`"${op}"`);
    }
  });
});

describe('history answers', () => {
  it('passes results of the operation’s type, and failures', () => {
    const replay = { messages: [message], lastId: 7, more: false, reset: true };
    const status = { lag: 0, persisted: 7, writable: true };
    const cases = [
      ['rooms', { ok: true, result: [room] }],
      ['rooms', { ok: true, result: [] }],
      ['room_count', { ok: true, result: 3 }],
      ['room', { ok: true, result: room }],
      ['room', { ok: true, result: null }],
      ['create_room', { ok: true, result: room }],
      ['messages', { ok: true, result: [message, { ...message, id: 8 }] }],
      ['replay', { ok: true, result: replay }],
      ['status', { ok: true, result: status }],
      ['rooms', { ok: false, code: 'unavailable', message: 'down' }],
    ] as const;
    for (const [op, answer] of cases) {
      expect(parseHistoryAnswer(op, bytes(answer)), op).toEqual({ ok: true, value: answer });
    }
  });

  it('refuses a result of another type, a missing one, or a failure without code', () => {
    const cases = [
      ['rooms', 'not json'],
      ['rooms', { result: [] }],
      ['rooms', { ok: 'true', result: [] }],
      ['rooms', { ok: true }],
      ['rooms', { ok: true, result: [{ id: 1, name: 'x' }] }],
      ['rooms', { ok: true, result: [{ ...room, id: '1' }] }],
      ['room_count', { ok: true, result: '3' }],
      ['room', { ok: true }],
      ['create_room', { ok: true, result: null }],
      ['messages', { ok: true, result: [message, { ...message, text: null }] }],
      ['replay', { ok: true, result: { messages: [], lastId: 1, more: false } }],
      ['replay', { ok: true, result: { messages: {}, lastId: 1, more: false, reset: false } }],
      ['status', { ok: true, result: { lag: 0, persisted: 7, writable: 'yes' } }],
      ['status', { ok: false, message: 'down' }],
      ['status', { ok: false, code: 503, message: 'down' }],
    ] as const;
    for (const [op, answer] of cases) {
      const parsed = parseHistoryAnswer(op, bytes(answer));
      expect(parsed, `${op} ${JSON.stringify(answer)}`).toMatchObject({ ok: false });
    }
  });
});

describe('stream messages', () => {
  const payload = { server_id: 4, username: 'ann', text: 'hi', ts: room.created_at };

  it('passes a chat message on its room’s subject, with or without client_id', () => {
    for (const value of [payload, { ...payload, client_id: 'c1' }]) {
      expect(readStreamMessage({ seq: 9, subject: 'chat.4', data: bytes(value) })).toEqual({
        ok: true,
        value,
      });
    }
  });

  it('refuses what is not a chat message, or is on another room’s subject', () => {
    const cases = [
      ['chat.4', 'not json'],
      ['chat.4', { g: 1, i: 2 }],
      ['chat.4', { ...payload, server_id: '4' }],
      ['chat.4', { ...payload, text: 5 }],
      ['chat.4', { ...payload, client_id: 5 }],
      ['chat.5', payload],
    ] as const;
    for (const [subject, value] of cases) {
      const read = readStreamMessage({ seq: 9, subject, data: bytes(value) });
      expect(read, `${subject} ${JSON.stringify(value)}`).toMatchObject({ ok: false });
      if (!read.ok) expect(read.reason).toContain('stream message 9');
    }
  });
});

describe('room events', () => {
  it('passes every kind of event', () => {
    const events: RoomEvent[] = [
      { kind: 'join', gatewayId: 'g', serverId: 1, username: 'ann' },
      { kind: 'leave', gatewayId: 'g', serverId: 1, username: 'ann' },
      { kind: 'typing', gatewayId: 'g', serverId: 1, username: 'ann' },
      { kind: 'gateway_state', gatewayId: 'g', epoch: 3, part: 1, parts: 2, state: [] },
      {
        kind: 'gateway_state',
        gatewayId: 'g',
        epoch: 3,
        part: 2,
        parts: 2,
        state: [
          [1, ['ann', 'bob']],
          [2, []],
        ],
      },
      { kind: 'gateway_hello', gatewayId: 'g' },
      { kind: 'gateway_gone', gatewayId: 'g' },
    ];
    for (const event of events) expect(isRoomEvent(event), JSON.stringify(event)).toBe(true);
  });

  it('refuses unknown kinds and fields of the wrong type', () => {
    const events: unknown[] = [
      null,
      [],
      'join',
      {},
      { kind: 'shout', gatewayId: 'g' },
      { kind: 'toString', gatewayId: 'g' },
      { kind: 'gateway_hello' },
      { kind: 'gateway_gone', gatewayId: 7 },
      { kind: 'join', gatewayId: 'g', serverId: '1', username: 'ann' },
      { kind: 'leave', gatewayId: 'g', serverId: 1 },
      { kind: 'typing', gatewayId: 'g', serverId: 1, username: null },
      { kind: 'gateway_state', gatewayId: 'g', epoch: 3, part: 1, parts: 1 },
      { kind: 'gateway_state', gatewayId: 'g', epoch: 3, part: 1, parts: 1, state: {} },
      { kind: 'gateway_state', gatewayId: 'g', epoch: '3', part: 1, parts: 1, state: [] },
      { kind: 'gateway_state', gatewayId: 'g', epoch: 3, part: 1, parts: 1, state: [[1]] },
      { kind: 'gateway_state', gatewayId: 'g', epoch: 3, part: 1, parts: 1, state: [[1, 'a']] },
      { kind: 'gateway_state', gatewayId: 'g', epoch: 3, part: 1, parts: 1, state: [[1, [2]]] },
      { kind: 'gateway_state', gatewayId: 'g', epoch: 3, part: 1, parts: 1, state: [['1', []]] },
    ];
    for (const event of events) expect(isRoomEvent(event), JSON.stringify(event)).toBe(false);
  });
});
