import type { FastifyBaseLogger } from 'fastify';
import type { MessageBus, RoomEvent, Subscription } from '../../bus/types.ts';
import { seqOf } from '../../domain/changes.ts';
import type { RoomChange } from '../../domain/changes.ts';
import { RoomPresence } from '../../domain/presence.ts';
import { compareCodePoints } from '../../domain/sorted-names.ts';
import { CLOSE, changeFrame, serialize } from '../../protocol.ts';
import type { CloseCode } from '../../protocol.ts';
import type { GatewayMetrics } from '../metrics.ts';
import { GatewayRoster } from './gateway-roster.ts';
import type { RosterOptions } from './gateway-roster.ts';

/**
 * What the hub needs of a member of a room (on this gateway, a chat session): who it is, and how
 * to hand it frames. Each frame is serialized once and the same string goes to every member.
 */
export interface RoomMember {
  readonly serverId: number;
  readonly username: string;
  /** A live change, unless the member has it already (by seq); returns whether it was sent. */
  deliverChange(seq: number, frame: string): boolean;
  /** `join`, `leave`, `presence_diff`. */
  deliverPresence(frame: string): void;
  /** A frame that may be dropped for a member that falls behind (`typing`). */
  deliverEphemeral(frame: string): void;
  close(code: CloseCode, reason: string): void;
}

export interface RoomHubOptions extends RosterOptions {
  presenceBatchThreshold: number;
  presenceDiffIntervalMs: number;
}

/** A room as one gateway sees it: its local members and its live subscription. */
interface RoomChannel<M extends RoomMember> {
  readonly serverId: number;
  readonly members: Set<M>;
  readonly subscription: Promise<Subscription>;
  diff: { joins: Set<string>; leaves: Set<string>; timer: NodeJS.Timeout } | undefined;
}

/**
 * The rooms of one gateway: fans each live message out to the room's local members (serialized
 * once, the same string to every recipient), and keeps room-wide presence with the other
 * gateways through the bus (the heartbeats: GatewayRoster). It hands back the members it was
 * given (`M`), so that their owner reaches them through it (pings, shutdown).
 *
 * Presence coalescing: while a room has at most `presenceBatchThreshold` distinct users, each
 * room-wide join or leave is one `join`/`leave` frame. Above it (or while a batch is pending),
 * changes are collected and sent as one `presence_diff` every `presenceDiffIntervalMs`; a join
 * and a leave of the same user inside one interval cancel out.
 */
export class RoomHub<M extends RoomMember = RoomMember> {
  readonly presence = new RoomPresence();
  private readonly channels = new Map<number, RoomChannel<M>>();
  private readonly eventSubscription: Subscription;
  private readonly gapSubscription: Subscription;
  private readonly roster: GatewayRoster;

  constructor(
    private readonly bus: MessageBus,
    private readonly options: RoomHubOptions,
    private readonly metrics: Pick<GatewayMetrics, 'connections' | 'messagesOut'>,
    private readonly log: FastifyBaseLogger,
  ) {
    this.roster = new GatewayRoster(bus, this.presence, options, log, (serverId, kind, username) =>
      this.announceRoom(serverId, kind, username),
    );
    this.eventSubscription = bus.onEvent((event) => this.onBusEvent(event));
    // Clients that may have missed messages come back with `since=` and get them from history.
    this.gapSubscription = bus.onGap(() => {
      for (const member of [...this.members()]) {
        member.close(CLOSE.tryAgainLater, 'live feed interrupted: rejoin with since');
      }
    });
    this.roster.start();
  }

  /**
   * Adds a member to its room: it receives live messages from now on (a joining session buffers
   * them until its replay is sent) and counts in presence. Resolves once the room's subscription
   * is live, so that a replay read afterwards misses nothing.
   */
  async enter(member: M): Promise<void> {
    const channel = this.channel(member.serverId);
    channel.members.add(member);
    this.metrics.connections.inc();
    const { serverId, username } = member;
    const gatewayId = this.options.gatewayId;
    const firstHere = this.presence.connections(serverId, username, gatewayId) === 0;
    const joined = this.presence.add(serverId, username, gatewayId);
    // the others learn of this gateway's users, whether or not the room already had them
    if (firstHere) this.bus.publishEvent({ kind: 'join', ...this.origin(member) });
    if (joined) this.announce(channel, 'join', username, member);
    await channel.subscription;
  }

  exit(member: M): void {
    const channel = this.channels.get(member.serverId);
    if (!channel?.members.delete(member)) return;
    this.metrics.connections.dec();
    const { serverId, username } = member;
    const gatewayId = this.options.gatewayId;
    const left = this.presence.remove(serverId, username, gatewayId);
    if (this.presence.connections(serverId, username, gatewayId) === 0) {
      this.bus.publishEvent({ kind: 'leave', ...this.origin(member) });
    }
    if (left) this.announce(channel, 'leave', username, member);
    if (channel.members.size === 0) this.dropChannel(channel);
  }

  typing(member: M): void {
    this.bus.publishEvent({ kind: 'typing', ...this.origin(member) });
    this.sendTyping(member.serverId, member.username);
  }

  /** Every local member, for pings and shutdown. */
  *members(): Iterable<M> {
    for (const channel of this.channels.values()) yield* channel.members;
  }

  close(): void {
    this.roster.close();
    this.eventSubscription.unsubscribe();
    this.gapSubscription.unsubscribe();
    for (const channel of this.channels.values()) this.dropChannel(channel);
  }

  private origin(member: M) {
    return {
      gatewayId: this.options.gatewayId,
      serverId: member.serverId,
      username: member.username,
    };
  }

  private channel(serverId: number): RoomChannel<M> {
    let channel = this.channels.get(serverId);
    if (!channel) {
      const members = new Set<M>();
      const subscription = this.bus.subscribe(serverId, (change) => this.deliver(members, change));
      channel = { serverId, members, subscription, diff: undefined };
      this.channels.set(serverId, channel);
    }
    return channel;
  }

  private dropChannel(channel: RoomChannel<M>): void {
    if (this.channels.get(channel.serverId) === channel) this.channels.delete(channel.serverId);
    if (channel.diff) clearTimeout(channel.diff.timer);
    channel.subscription.then(
      (subscription) => subscription.unsubscribe(),
      (error: unknown) => this.log.warn({ err: error }, 'room subscription had failed'),
    );
  }

  /** Serializes the change once; the same string goes to every member. */
  private deliver(members: Set<M>, change: RoomChange): void {
    const frame = changeFrame(change);
    const seq = seqOf(change);
    let sent = 0;
    for (const member of members) if (member.deliverChange(seq, frame)) sent++;
    if (change.type === 'message') this.metrics.messagesOut.inc(sent);
  }

  private onBusEvent(event: RoomEvent): void {
    if (event.gatewayId === this.options.gatewayId) return;
    this.roster.hear(event);
    switch (event.kind) {
      case 'join':
        // another gateway is known by which users it holds: one count each
        if (this.presence.connections(event.serverId, event.username, event.gatewayId) > 0) break;
        if (this.presence.add(event.serverId, event.username, event.gatewayId)) {
          this.announceRoom(event.serverId, 'join', event.username);
        }
        break;
      case 'leave':
        if (this.presence.remove(event.serverId, event.username, event.gatewayId)) {
          this.announceRoom(event.serverId, 'leave', event.username);
        }
        break;
      case 'typing':
        this.sendTyping(event.serverId, event.username);
        break;
    }
  }

  private announceRoom(serverId: number, kind: 'join' | 'leave', username: string): void {
    const channel = this.channels.get(serverId);
    if (channel) this.announce(channel, kind, username, undefined);
  }

  private announce(
    channel: RoomChannel<M>,
    kind: 'join' | 'leave',
    username: string,
    cause: M | undefined,
  ): void {
    if (
      channel.diff ||
      this.presence.size(channel.serverId) > this.options.presenceBatchThreshold
    ) {
      this.batch(channel, kind, username);
      return;
    }
    const frame = serialize({ type: kind, username });
    for (const member of channel.members) {
      if (member !== cause) member.deliverPresence(frame);
    }
  }

  private batch(channel: RoomChannel<M>, kind: 'join' | 'leave', username: string): void {
    if (!channel.diff) {
      const timer = setTimeout(() => this.flushDiff(channel), this.options.presenceDiffIntervalMs);
      channel.diff = { joins: new Set(), leaves: new Set(), timer };
    }
    const [same, opposite] =
      kind === 'join'
        ? [channel.diff.joins, channel.diff.leaves]
        : [channel.diff.leaves, channel.diff.joins];
    if (!opposite.delete(username)) same.add(username);
  }

  private flushDiff(channel: RoomChannel<M>): void {
    const diff = channel.diff;
    channel.diff = undefined;
    if (!diff || (diff.joins.size === 0 && diff.leaves.size === 0)) return;
    const frame = serialize({
      type: 'presence_diff',
      joins: [...diff.joins].sort(compareCodePoints),
      leaves: [...diff.leaves].sort(compareCodePoints),
    });
    for (const member of channel.members) member.deliverPresence(frame);
  }

  private sendTyping(serverId: number, username: string): void {
    const channel = this.channels.get(serverId);
    if (!channel) return;
    const frame = serialize({ type: 'typing', username });
    for (const member of channel.members) {
      if (member.username !== username) member.deliverEphemeral(frame);
    }
  }
}
