import { expiryOf } from '../../domain/identity.ts';
import type { AccessChange } from '../../domain/access-events.ts';
import type { Principal } from '../../domain/identity.ts';
import { CLOSE } from '../../protocol.ts';
import type { CloseCode } from '../../protocol.ts';
import type { AccessState } from './access-state.ts';

interface OpenSocket {
  principal: Principal;
  serverId: number;
  close(code: CloseCode, reason: string): void;
  timer: NodeJS.Timeout | undefined;
}

/** setTimeout's longest delay (about 24.8 days); a longer one would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The WebSockets of this gateway opened with credentials: each is closed with 4401 when its
 * credentials expire (a JWT's `exp`, a session's end) and, on every access change, checked
 * again: 4401 when its session or token ended, 4403 when its user was disabled or removed from
 * the (private) room. A frame on an
 * open socket is never checked: the close comes from here.
 */
export class OpenSockets {
  private readonly open = new Set<OpenSocket>();

  constructor(
    private readonly access: AccessState,
    private readonly now: () => number = Date.now,
  ) {}

  /** Registers a socket to a room; call the returned function when it closes. */
  add(
    principal: Principal,
    serverId: number,
    close: (code: CloseCode, reason: string) => void,
  ): () => void {
    const entry: OpenSocket = { principal, serverId, close, timer: undefined };
    this.open.add(entry);
    const expiresAt = expiryOf(principal.credential);
    if (expiresAt !== undefined) this.expireAt(entry, expiresAt);
    return () => this.remove(entry);
  }

  /**
   * After an access change: closes every socket whose credentials the access state now refuses,
   * and those of a member removed from their room (4403).
   */
  recheck(change?: AccessChange): void {
    if (change?.type === 'member_removed') this.closeMember(change.server_id, change.username);
    for (const entry of [...this.open]) {
      const refusal = this.access.refusal(entry.principal);
      if (refusal === undefined) continue;
      this.remove(entry);
      if (refusal === 'user_disabled') entry.close(CLOSE.forbidden, 'account disabled');
      else entry.close(CLOSE.unauthenticated, 'session ended: sign in again');
    }
  }

  private closeMember(serverId: number, username: string): void {
    for (const entry of [...this.open]) {
      if (entry.serverId !== serverId || entry.principal.username !== username) continue;
      this.remove(entry);
      entry.close(CLOSE.forbidden, 'removed from this room');
    }
  }

  close(): void {
    for (const entry of this.open) clearTimeout(entry.timer);
    this.open.clear();
  }

  private expireAt(entry: OpenSocket, expiresAt: number): void {
    const left = expiresAt - this.now();
    if (left <= 0) {
      this.remove(entry);
      entry.close(CLOSE.unauthenticated, 'credentials expired: reconnect with fresh ones');
      return;
    }
    entry.timer = setTimeout(() => this.expireAt(entry, expiresAt), Math.min(left, MAX_TIMER_MS));
    entry.timer.unref();
  }

  private remove(entry: OpenSocket): void {
    clearTimeout(entry.timer);
    this.open.delete(entry);
  }
}
