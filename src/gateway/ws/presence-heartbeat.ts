/**
 * A gateway's presence heartbeat, in parts that fit the bus. A room of thousands of users with
 * long names is more than one NATS message holds, so the whole presence is split into parts of
 * at most a byte budget (a room may span parts), all numbered with one epoch, and published
 * together. A receiver applies them only once it holds every part of an epoch: then they replace
 * what it knew of that gateway, exactly as one whole heartbeat did. An epoch with a part lost
 * changes nothing; the next heartbeat comes soon.
 */
import type { GatewayPresence } from '../../domain/presence.ts';
import type { GatewayStatePart } from '../../bus/types.ts';

/** Bytes of a `gateway_state` event besides its `state` (kind, gateway id, numbers: ~130). */
export const HEARTBEAT_ENVELOPE_BYTES = 256;

const utf8 = (text: string) => Buffer.byteLength(text, 'utf8');

/**
 * Splits a presence into parts whose JSON has at most `budget` bytes each; always at least one
 * part (an empty presence is one empty part).
 */
export function splitPresence(state: GatewayPresence, budget: number): GatewayPresence[] {
  const parts: GatewayPresence[] = [];
  let current: GatewayPresence = [];
  let size = 2; // []
  for (const [serverId, usernames] of state) {
    const roomCost = utf8(`[${serverId},[]],`);
    let room: string[] | undefined;
    for (const username of usernames) {
      const cost = utf8(JSON.stringify(username)) + 1;
      if (size + cost + (room ? 0 : roomCost) > budget && current.length > 0) {
        parts.push(current);
        current = [];
        size = 2;
        room = undefined;
      }
      if (!room) {
        room = [];
        current.push([serverId, room]);
        size += roomCost;
      }
      room.push(username);
      size += cost;
    }
  }
  parts.push(current);
  return parts;
}

/** Joins the parts of each gateway's heartbeats; holds at most one epoch per gateway. */
export class HeartbeatAssembler {
  private readonly pending = new Map<
    string,
    { epoch: number; parts: number; received: GatewayPresence[] }
  >();

  /** Takes one part; returns the gateway's whole presence once its epoch is complete. */
  add(gatewayId: string, event: GatewayStatePart): GatewayPresence | undefined {
    const { epoch, part, parts, state } = event;
    if (!isPart(event)) return undefined;
    let pending = this.pending.get(gatewayId);
    if (part === 1) {
      pending = { epoch, parts, received: [] };
      this.pending.set(gatewayId, pending);
    } else if (
      !pending ||
      pending.epoch !== epoch ||
      pending.parts !== parts ||
      pending.received.length !== part - 1
    ) {
      // a part went missing (parts of one publisher arrive in order): wait for the next epoch
      this.pending.delete(gatewayId);
      return undefined;
    }
    pending.received.push(state);
    if (pending.received.length < parts) return undefined;
    this.pending.delete(gatewayId);
    return pending.received.flat();
  }

  forget(gatewayId: string): void {
    this.pending.delete(gatewayId);
  }
}

function isPart({ epoch, part, parts, state }: GatewayStatePart): boolean {
  return (
    Number.isSafeInteger(epoch) &&
    Number.isSafeInteger(parts) &&
    Number.isSafeInteger(part) &&
    part >= 1 &&
    part <= parts &&
    Array.isArray(state)
  );
}
