import { SortedNames } from './sorted-names.ts';

/**
 * Most names in a `presence` frame, and in one page of REST presence; a bigger room's frame says
 * `total` and `more`, and the rest is paged with `after=`.
 */
export const PRESENCE_PAGE_LIMIT = 1000;

/** The users one gateway holds in each room (a heartbeat's content). */
export type GatewayPresence = Array<[serverId: number, usernames: string[]]>;

export interface PresenceChange {
  kind: 'join' | 'leave';
  serverId: number;
  username: string;
}

/**
 * Who is in which room, across gateways. A user is present in a room while at least one gateway
 * holds a connection of theirs there. This gateway counts its own connections; another gateway
 * is known only by which users it holds (one count each), from its join/leave events, which it
 * sends when its own first connection of a user opens or its last one closes, and from its
 * heartbeats.
 */
export class RoomPresence {
  // serverId -> username -> gatewayId -> open connections on that gateway
  private readonly rooms = new Map<number, Map<string, Map<string, number>>>();
  // serverId -> the room's usernames in code-point order, kept as users come and go
  private readonly sorted = new Map<number, SortedNames>();

  /** Counts one more connection; true when the user was not in the room before. */
  add(serverId: number, username: string, gatewayId: string): boolean {
    let users = this.rooms.get(serverId);
    if (!users) this.rooms.set(serverId, (users = new Map<string, Map<string, number>>()));
    let gateways = users.get(username);
    const joined = gateways === undefined;
    if (!gateways) {
      users.set(username, (gateways = new Map<string, number>()));
      this.sortedOf(serverId).add(username);
    }
    gateways.set(gatewayId, (gateways.get(gatewayId) ?? 0) + 1);
    return joined;
  }

  /** Counts one connection less; true when it was the user's last one in the room. */
  remove(serverId: number, username: string, gatewayId: string): boolean {
    const users = this.rooms.get(serverId);
    const gateways = users?.get(username);
    const count = gateways?.get(gatewayId);
    if (!users || !gateways || count === undefined) return false;
    if (count > 1) {
      gateways.set(gatewayId, count - 1);
      return false;
    }
    gateways.delete(gatewayId);
    if (gateways.size > 0) return false;
    users.delete(username);
    this.sorted.get(serverId)?.delete(username);
    if (users.size === 0) {
      this.rooms.delete(serverId);
      this.sorted.delete(serverId);
    }
    return true;
  }

  /** Forgets everything a gateway reported; returns the users who left a room because of it. */
  removeGateway(gatewayId: string): Array<{ serverId: number; username: string }> {
    const left: Array<{ serverId: number; username: string }> = [];
    for (const [serverId, users] of this.rooms) {
      for (const [username, gateways] of users) {
        const count = gateways.get(gatewayId);
        if (count === undefined) continue;
        for (let i = 0; i < count; i++) {
          if (this.remove(serverId, username, gatewayId)) left.push({ serverId, username });
        }
      }
    }
    return left;
  }

  /**
   * Replaces everything known of a gateway with its heartbeat. Returns the room-wide changes
   * this makes.
   */
  replaceGateway(gatewayId: string, state: GatewayPresence): PresenceChange[] {
    const changes: PresenceChange[] = this.removeGateway(gatewayId).map((left) => ({
      ...left,
      kind: 'leave',
    }));
    for (const [serverId, usernames] of state) {
      for (const username of usernames) {
        if (this.add(serverId, username, gatewayId)) {
          changes.push({ kind: 'join', serverId, username });
        }
      }
    }
    // a user who left and came back within this one replacement did not change
    const net = new Map<string, PresenceChange>();
    for (const change of changes) {
      const key = `${change.serverId}\u0000${change.username}`;
      if (net.has(key)) net.delete(key);
      else net.set(key, change);
    }
    return [...net.values()];
  }

  /** The users a gateway holds, room by room. */
  gatewayState(gatewayId: string): GatewayPresence {
    const state: GatewayPresence = [];
    for (const [serverId, users] of this.rooms) {
      const here: string[] = [];
      for (const [username, gateways] of users) if (gateways.has(gatewayId)) here.push(username);
      if (here.length > 0) state.push([serverId, here]);
    }
    return state;
  }

  /** A gateway's open connections of a user in a room. */
  connections(serverId: number, username: string, gatewayId: string): number {
    return this.rooms.get(serverId)?.get(username)?.get(gatewayId) ?? 0;
  }

  /** Distinct users in the room. */
  size(serverId: number): number {
    return this.rooms.get(serverId)?.size ?? 0;
  }

  /** Usernames in the room, sorted by code point, each once. */
  users(serverId: number): string[] {
    return this.sorted.get(serverId)?.all() ?? [];
  }

  /** The first `limit` usernames of the room that sort after `after` (from the first without). */
  page(serverId: number, after: string | undefined, limit: number): string[] {
    return this.sorted.get(serverId)?.page(after, limit) ?? [];
  }

  private sortedOf(serverId: number): SortedNames {
    let names = this.sorted.get(serverId);
    if (!names) this.sorted.set(serverId, (names = new SortedNames()));
    return names;
  }
}
