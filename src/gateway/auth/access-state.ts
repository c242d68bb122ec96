import type { AccessChange, AccessSnapshot, AccessUpdate } from '../../domain/access-events.ts';
import type { Principal } from '../../domain/identity.ts';

/** Why credentials with a valid signature are refused anyway. */
export type Refusal = 'unauthenticated' | 'user_disabled';

/**
 * What a gateway keeps in memory to refuse credentials whose signature is still valid: ended
 * sessions (until no copy of their cookie can be valid), each user's last password change (what
 * was issued before it is refused, but the session that made it), revoked tokens, disabled users,
 * and the archived rooms (read-only).
 * It starts from storage's snapshot and follows the access feed from the snapshot's position, so
 * that no change between the two is missed or applied twice. A check is a few map lookups.
 */
export class AccessState {
  private position = 0;
  private readonly endedSessions = new Map<string, number>();
  private readonly resets = new Map<string, { at: number; keepSid: string | null }>();
  private readonly revokedTokens = new Set<string>();
  private readonly disabledUsers = new Set<string>();
  private readonly archivedRooms = new Set<number>();
  private prunedAt = 0;

  constructor(private readonly now: () => number = Date.now) {}

  /** Takes the snapshot's state and position in place of what was known (a reload too). */
  load(snapshot: AccessSnapshot): void {
    this.endedSessions.clear();
    this.resets.clear();
    this.revokedTokens.clear();
    this.disabledUsers.clear();
    this.archivedRooms.clear();
    this.position = snapshot.position;
    for (const { sid, until } of snapshot.ended_sessions) this.endedSessions.set(sid, until);
    for (const { username, at, keep_sid } of snapshot.resets) {
      this.resets.set(username, { at, keepSid: keep_sid });
    }
    for (const id of snapshot.revoked_tokens) this.revokedTokens.add(id);
    for (const username of snapshot.disabled_users) this.disabledUsers.add(username);
    for (const id of snapshot.archived_rooms) this.archivedRooms.add(id);
  }

  /** Applies a change past the current position; returns it, or undefined when already known. */
  apply(update: AccessUpdate): AccessChange | undefined {
    if (update.seq <= this.position) return undefined;
    this.position = update.seq;
    const change = update.change;
    switch (change.type) {
      case 'session_ended':
        this.pruneEndedSessions();
        this.endedSessions.set(
          change.sid,
          Math.max(change.until, this.endedSessions.get(change.sid) ?? 0),
        );
        break;
      case 'credentials_reset':
        this.resets.set(change.username, { at: change.at, keepSid: change.keep_sid });
        break;
      case 'token_revoked':
        this.revokedTokens.add(change.id);
        break;
      case 'user_disabled':
        if (change.disabled) this.disabledUsers.add(change.username);
        else this.disabledUsers.delete(change.username);
        break;
      case 'room_archived':
        if (change.archived) this.archivedRooms.add(change.server_id);
        else this.archivedRooms.delete(change.server_id);
        break;
      case 'member_removed':
        break; // nothing to keep: the member's sockets to the room are closed (OpenSockets)
    }
    return change;
  }

  /** Whether the room is read-only: a message to it is refused without asking storage. */
  isArchived(serverId: number): boolean {
    return this.archivedRooms.has(serverId);
  }

  /** Why the principal's credentials no longer work, if they do not. */
  refusal(principal: Principal): Refusal | undefined {
    const { credential, username } = principal;
    if (credential.kind === 'open') return undefined;
    if (this.disabledUsers.has(username)) return 'user_disabled';
    if (credential.kind === 'jwt') return undefined;
    const reset = this.resets.get(username);
    if (credential.kind === 'session') {
      if ((this.endedSessions.get(credential.id) ?? 0) > this.now()) return 'unauthenticated';
      if (reset && credential.issuedAt < reset.at && credential.id !== reset.keepSid) {
        return 'unauthenticated';
      }
      return undefined;
    }
    if (this.revokedTokens.has(credential.id)) return 'unauthenticated';
    if (reset && credential.issuedAt < reset.at) return 'unauthenticated';
    return undefined;
  }

  /** Drops ended sessions whose cookies have all expired (at most once a minute). */
  private pruneEndedSessions(): void {
    const now = this.now();
    if (now - this.prunedAt < 60_000) return;
    this.prunedAt = now;
    for (const [sid, until] of this.endedSessions) {
      if (until <= now) this.endedSessions.delete(sid);
    }
  }
}
