/** A gateway's local user as the unread hub keeps them, and how their counts compare. */
import { COUNT_CAP } from '../../domain/unread.ts';
import type { RoomUnread } from '../../domain/unread.ts';
import type { NoticeUser } from './mention-notices.ts';

/** A socket as the unread hub sees it: whose it is, which room, how to hand it a frame. */
export interface UnreadSocket {
  readonly serverId: number;
  readonly username: string;
  /** An `unread` or `mention` frame (a joining socket sends it after its join's frames). */
  deliverNotice(frame: string): void;
}

/** A local user: their sockets on this gateway and their rooms, as storage last counted them. */
export class LocalUser implements NoticeUser {
  readonly sockets = new Set<UnreadSocket>();
  rooms = new Map<number, RoomUnread>();
  loaded = false;
  loading = false;
  /** A trigger came while loading: load again, and say what changed. */
  stale = false;
  /** Rooms opened while loading: they join the user's rooms at the next load. */
  readonly enter = new Set<number>();
  /** Rooms whose counts are to be asked for, and when each may next have a frame. */
  readonly dirty = new Set<number>();
  readonly nextFrame = new Map<number, number>();
  /** What the user's sockets were told last of each room (or read at their start). */
  readonly told = new Map<number, RoomUnread>();

  constructor(readonly username: string) {}

  send(frame: string): void {
    for (const socket of this.sockets) socket.deliverNotice(frame);
  }
}

/** Whether a new message (`named`: with an `@`) leaves these counts as they are. */
export function atCap(told: RoomUnread | undefined, named: boolean): boolean {
  if (!told || told.unread < COUNT_CAP) return false;
  return told.dm || told.mentions >= COUNT_CAP || !named;
}

export function changed(a: RoomUnread, b: RoomUnread): boolean {
  return a.unread !== b.unread || a.mentions !== b.mentions || a.last_read !== b.last_read;
}
