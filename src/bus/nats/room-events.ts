/**
 * The check of a room event from another gateway, before any handler sees it: a malformed one
 * (another version, or anyone publishing on the events subject) is dropped.
 */
import type { GatewayPresence } from '../../domain/presence.ts';
import { arrayOf, isInteger, isRecord, isString, objectOf, tupleOf } from '../../nats/guards.ts';
import type { Guard } from '../../nats/guards.ts';
import type { RoomEvent } from '../types.ts';

type Kind = RoomEvent['kind'];
/** The room event of one kind (`join` and `leave` share a member of the union). */
type Of<K extends Kind> = RoomEvent & { kind: K };

const isKind =
  <K extends Kind>(kind: K): Guard<K> =>
  (value): value is K =>
    value === kind;

const isPresence: Guard<GatewayPresence> = arrayOf(
  tupleOf<[number, string[]]>(isInteger, arrayOf(isString)),
);

const EVENTS: { [K in Kind]: Guard<Of<K>> } = {
  join: objectOf<Of<'join'>>({
    kind: isKind('join'),
    gatewayId: isString,
    serverId: isInteger,
    username: isString,
  }),
  leave: objectOf<Of<'leave'>>({
    kind: isKind('leave'),
    gatewayId: isString,
    serverId: isInteger,
    username: isString,
  }),
  typing: objectOf<Of<'typing'>>({
    kind: isKind('typing'),
    gatewayId: isString,
    serverId: isInteger,
    username: isString,
  }),
  gateway_state: objectOf<Of<'gateway_state'>>({
    kind: isKind('gateway_state'),
    gatewayId: isString,
    epoch: isInteger,
    part: isInteger,
    parts: isInteger,
    state: isPresence,
  }),
  gateway_hello: objectOf<Of<'gateway_hello'>>({
    kind: isKind('gateway_hello'),
    gatewayId: isString,
  }),
  gateway_gone: objectOf<Of<'gateway_gone'>>({
    kind: isKind('gateway_gone'),
    gatewayId: isString,
  }),
};

export function isRoomEvent(value: unknown): value is RoomEvent {
  if (!isRecord(value) || typeof value.kind !== 'string' || !Object.hasOwn(EVENTS, value.kind)) {
    return false;
  }
  return EVENTS[value.kind as Kind](value);
}
