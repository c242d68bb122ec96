import type { FastifyBaseLogger } from 'fastify';
import type { HistoryClient, MessageBus, Subscription } from '../../bus/types.ts';
import type { GatewayMetrics } from '../metrics.ts';
import { seqOf } from '../../domain/changes.ts';
import type { RoomChange } from '../../domain/changes.ts';
import type { ReaderTrigger, RoomUnread } from '../../domain/unread.ts';
import { serialize } from '../../protocol.ts';
import { MentionNotices } from './mention-notices.ts';
import { ReadMarkers } from './read-markers.ts';
import { LocalUser, atCap, changed } from './unread-user.ts';
import type { UnreadSocket } from './unread-user.ts';

export type { UnreadSocket } from './unread-user.ts';

/** Changes kept while loads run (a load takes a request's time: milliseconds). */
const MAX_BACKLOG = 10_000;

export interface UnreadHubOptions {
  /** Whether live messages carry their mentions (embedded mode) or storage must say (NATS). */
  liveMentions: boolean;
  /** The shortest time between two `unread` frames of one room to one socket (1 s). */
  intervalMs?: number;
  /** How long changes are collected before their counts are asked for together. */
  batchMs?: number;
  retryMs?: number;
  /** Most (user, room) pairs in one request. */
  maxPairsPerRequest?: number;
}

/**
 * `unread` and `mention` frames on one gateway, for the users it has sockets of, whatever room
 * each socket is in. It keeps each local user's rooms (loaded from storage when their first
 * socket opens here) and an index of the local users of each room. A live message, a delete, an
 * edit (from every room the index has, through `bus.watchRooms`), or a state event that moves a
 * marker, a level or a membership (`bus.onReaderTriggers`, from every gateway and device) marks
 * the (user, room) pairs it touches; the hub then asks storage for the counts of every marked
 * pair in one request (in chunks), at most once per pair per `intervalMs`, one request at a time,
 * and sends a frame where the counts changed. So a message into a room of 5,000 members, half of
 * them online, costs each gateway one batched request per second for its own members, however
 * many messages that second brought, and storage one indexed count per online member.
 */
export class UnreadHub {
  private readonly users = new Map<string, LocalUser>();
  private readonly roomUsers = new Map<number, Set<LocalUser>>();
  private readonly subscriptions: Subscription[];
  private readonly notices: MentionNotices;
  readonly markers: ReadMarkers;
  private readonly intervalMs: number;
  private readonly batchMs: number;
  private readonly retryMs: number;
  private readonly maxPairs: number;
  /** The newest stream sequence of a change seen: counts are asked as of it (NATS mode). */
  private seen = 0;
  /**
   * While users' rooms are being loaded, the changes of rooms no local user has yet: a room that
   * turns out to be one of theirs (a DM opened, a private room they were added to) gets what
   * came after the load began, so that its first messages are not missed meanwhile.
   */
  private loadsRunning = 0;
  private backlog: Array<{ change: RoomChange; seq: number }> = [];
  private timer: NodeJS.Timeout | undefined;
  private asking = false;
  private closed = false;

  constructor(
    bus: Pick<MessageBus, 'watchRooms' | 'onReaderTriggers'>,
    private readonly history: Pick<
      HistoryClient,
      'unreadState' | 'unreadCounts' | 'moveMarkers' | 'mentionsOf'
    >,
    options: UnreadHubOptions,
    private readonly metrics: Pick<GatewayMetrics, 'unreadRequests' | 'unreadPairs'>,
    private readonly log: FastifyBaseLogger,
  ) {
    this.intervalMs = options.intervalMs ?? 1000;
    this.batchMs = options.batchMs ?? 50;
    this.retryMs = options.retryMs ?? 1000;
    this.maxPairs = options.maxPairsPerRequest ?? 500;
    this.notices = new MentionNotices(
      history,
      (serverId) => this.roomUsers.get(serverId) ?? [],
      { liveMentions: options.liveMentions, retryMs: this.retryMs, maxTries: 5 },
      log,
    );
    this.markers = new ReadMarkers(history, { batchMs: this.batchMs, maxPerRequest: 200 }, log);
    this.subscriptions = [
      bus.watchRooms(
        (serverId) => this.loadsRunning > 0 || this.roomUsers.has(serverId),
        (change) => this.onChange(change),
      ),
      bus.onReaderTriggers((triggers, seq) => this.onTriggers(triggers, seq)),
    ];
  }

  /** A socket opened (and may see its room): its user's rooms are loaded, the room joins them. */
  attach(socket: UnreadSocket): void {
    let user = this.users.get(socket.username);
    if (!user) {
      user = new LocalUser(socket.username);
      this.users.set(user.username, user);
    }
    user.sockets.add(socket);
    if (!user.rooms.has(socket.serverId)) user.enter.add(socket.serverId);
    if (!user.loaded || user.enter.size > 0) this.load(user);
  }

  detach(socket: UnreadSocket): void {
    const user = this.users.get(socket.username);
    if (!user?.sockets.delete(socket) || user.sockets.size > 0) return;
    this.users.delete(user.username);
    for (const serverId of user.rooms.keys()) this.unindex(user, serverId);
  }

  /** A `read` frame of a socket: the marker goes to storage with the others of this moment. */
  read(socket: UnreadSocket, id: number): void {
    const known = this.users.get(socket.username)?.rooms.get(socket.serverId);
    if (known && known.last_read >= id) return;
    this.markers.read(socket.username, socket.serverId, id);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    for (const subscription of this.subscriptions) subscription.unsubscribe();
    this.notices.close();
    this.markers.close();
  }

  /** Loads the user's rooms; `from`: the stream position since which changes are caught up. */
  private load(user: LocalUser, from = this.seen): void {
    if (user.loading) {
      user.stale = true;
      return;
    }
    user.loading = true;
    this.loadsRunning++;
    const announce = user.loaded;
    const enter = [...user.enter];
    user.enter.clear();
    // a socket opens one room: a second room opened meanwhile is entered by the next load
    const [first, ...later] = enter;
    for (const serverId of later) user.enter.add(serverId);
    this.history.unreadState(user.username, first, this.seen).then(
      (rooms) => {
        user.loading = false;
        if (this.users.get(user.username) === user) {
          const before = new Set(user.rooms.keys());
          this.setRooms(user, rooms, announce);
          this.catchUp(user, before, from);
          if (user.stale || user.enter.size > 0) {
            user.stale = false;
            // before this load ends: what came meanwhile is kept for the next one
            this.load(user, from);
          }
        }
        this.loadEnded();
      },
      (error: unknown) => {
        user.loading = false;
        this.loadEnded();
        for (const serverId of enter) user.enter.add(serverId);
        this.log.warn({ err: error, username: user.username }, 'unread state not loaded; retrying');
        setTimeout(() => {
          if (!this.closed && this.users.get(user.username) === user) this.load(user);
        }, this.retryMs).unref();
      },
    );
  }

  private loadEnded(): void {
    this.loadsRunning--;
    if (this.loadsRunning === 0) this.backlog = [];
  }

  /** What came, after the load began, in rooms that were not the user's before it. */
  private catchUp(user: LocalUser, before: ReadonlySet<number>, from: number): void {
    for (const { change, seq } of this.backlog) {
      const serverId = change.type === 'message' ? change.message.server_id : change.server_id;
      if (seq <= from || before.has(serverId) || !user.rooms.has(serverId)) continue;
      if (change.type !== 'message') this.mark(user, serverId);
      else if (change.message.username !== user.username) {
        this.mark(user, serverId);
        this.notices.message(change.message, seq, user);
      }
    }
  }

  /**
   * The user's rooms from storage. At the first load their sockets are taken to know the counts
   * (a client reads them at its start); later, a room new to them (added to one) or changed
   * gets a frame.
   */
  private setRooms(user: LocalUser, rooms: readonly RoomUnread[], announce: boolean): void {
    const before = user.rooms;
    user.rooms = new Map(rooms.map((room) => [room.server_id, room]));
    user.loaded = true;
    for (const serverId of before.keys()) {
      if (!user.rooms.has(serverId)) this.forget(user, serverId);
    }
    for (const room of rooms) {
      this.index(user, room.server_id);
      if (announce) this.offer(user, room);
      else user.told.set(room.server_id, room);
    }
    if (user.dirty.size > 0) this.schedule(this.batchMs);
  }

  private onChange(change: RoomChange): void {
    const serverId = change.type === 'message' ? change.message.server_id : change.server_id;
    const seq = seqOf(change);
    this.seen = Math.max(this.seen, seq);
    const users = this.roomUsers.get(serverId);
    if (!users) {
      if (this.loadsRunning > 0 && this.backlog.length < MAX_BACKLOG) {
        this.backlog.push({ change, seq });
      }
      return;
    }
    switch (change.type) {
      case 'message': {
        const named = change.message.text.includes('@');
        for (const user of users) {
          if (user.username === change.message.username) continue;
          // counts at their cap stay there: a new message cannot change them
          if (atCap(user.told.get(serverId), named)) continue;
          this.mark(user, serverId);
        }
        this.notices.message(change.message, seq);
        return;
      }
      case 'edit':
      case 'delete':
        // counts change only for those who have not read past it
        for (const user of users) {
          if ((user.rooms.get(serverId)?.last_read ?? 0) < change.id) this.mark(user, serverId);
        }
        return;
      case 'reaction':
        return;
    }
  }

  /** A pair is counted again (after the user's load, if one is running); a user's rooms reload. */
  private onTriggers(triggers: readonly ReaderTrigger[], seq: number): void {
    this.seen = Math.max(this.seen, seq);
    for (const trigger of triggers) {
      const user = this.users.get(trigger.username);
      if (!user) continue;
      if (trigger.server_id === undefined) {
        this.load(user);
        continue;
      }
      const room = user.rooms.get(trigger.server_id);
      if (room && trigger.notify)
        user.rooms.set(room.server_id, { ...room, notify: trigger.notify });
      if (trigger.gone) this.forget(user, trigger.server_id);
      else this.mark(user, trigger.server_id);
    }
  }

  private mark(user: LocalUser, serverId: number): void {
    user.dirty.add(serverId);
    this.schedule(this.batchMs);
  }

  private schedule(delayMs: number): void {
    if (this.timer || this.asking || this.closed) return;
    this.timer = setTimeout(() => void this.flush(), Math.max(delayMs, 0));
    this.timer.unref();
  }

  /**
   * Asks for the counts of every marked pair that may have a frame now, one request at a time
   * (so that an older answer never overtakes a newer one), and sends the frames that changed.
   */
  private async flush(): Promise<void> {
    this.timer = undefined;
    const now = Date.now();
    const due: Array<[LocalUser, number]> = [];
    let wait = Infinity;
    for (const user of this.users.values()) {
      if (!user.loaded) continue;
      for (const serverId of user.dirty) {
        const next = user.nextFrame.get(serverId) ?? 0;
        if (next > now) {
          wait = Math.min(wait, next - now);
          continue;
        }
        user.dirty.delete(serverId);
        due.push([user, serverId]);
      }
    }
    if (due.length > 0) {
      this.asking = true;
      try {
        await this.count(due);
      } catch (error) {
        this.log.warn({ err: error, pairs: due.length }, 'unread counts not read; retrying');
        for (const [user, serverId] of due) user.dirty.add(serverId);
        wait = Math.min(wait, this.retryMs);
      } finally {
        this.asking = false;
      }
      if (this.hasDirty()) wait = Math.min(wait, this.batchMs);
    }
    if (wait < Infinity) this.schedule(wait);
  }

  private async count(due: ReadonlyArray<[LocalUser, number]>): Promise<void> {
    const after = this.seen;
    for (let i = 0; i < due.length; i += this.maxPairs) {
      const chunk = due.slice(i, i + this.maxPairs);
      this.metrics.unreadRequests.inc();
      this.metrics.unreadPairs.inc(chunk.length);
      const answers = await this.history.unreadCounts(
        chunk.map(([user, serverId]) => [user.username, serverId] as const),
        after,
      );
      chunk.forEach(([user, serverId], j) => this.counted(user, serverId, answers[j] ?? null));
    }
  }

  private counted(user: LocalUser, serverId: number, room: RoomUnread | null): void {
    if (this.users.get(user.username) !== user) return;
    if (!room) {
      // not (or no longer) one of the user's rooms
      this.forget(user, serverId);
      return;
    }
    user.rooms.set(serverId, room);
    this.index(user, serverId);
    this.offer(user, room);
  }

  /** A frame when the counts differ from what the user's sockets were told, once it may go. */
  private offer(user: LocalUser, room: RoomUnread): void {
    const told = user.told.get(room.server_id);
    if (told && !changed(told, room)) return;
    if ((user.nextFrame.get(room.server_id) ?? 0) > Date.now()) {
      this.mark(user, room.server_id);
      return;
    }
    const { server_id, unread, mentions, last_read } = room;
    user.send(serialize({ type: 'unread', server_id, unread, mentions, last_read }));
    user.told.set(server_id, room);
    user.nextFrame.set(server_id, Date.now() + this.intervalMs);
  }

  private forget(user: LocalUser, serverId: number): void {
    user.rooms.delete(serverId);
    user.told.delete(serverId);
    this.unindex(user, serverId);
  }

  private hasDirty(): boolean {
    for (const user of this.users.values()) if (user.dirty.size > 0) return true;
    return false;
  }

  private index(user: LocalUser, serverId: number): void {
    let users = this.roomUsers.get(serverId);
    if (!users) this.roomUsers.set(serverId, (users = new Set()));
    users.add(user);
  }

  private unindex(user: LocalUser, serverId: number): void {
    const users = this.roomUsers.get(serverId);
    if (!users?.delete(user)) return;
    if (users.size === 0) this.roomUsers.delete(serverId);
  }
}
