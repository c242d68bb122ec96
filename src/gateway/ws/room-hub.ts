import type { FastifyBaseLogger } from 'fastify';
import type { Message } from '../../domain/message.ts';
import { RoomPresence } from '../../domain/presence.ts';
import { compareCodePoints } from '../../domain/sorted-names.ts';
import type { MessageBus, RoomEvent, Subscription } from '../../bus/types.ts';
import { guarded } from '../../internal-errors.ts';
import { CLOSE, messageFrame, serialize } from '../../protocol.ts';
import type { GatewayMetrics } from '../metrics.ts';
import type { ChatSession } from './chat-session.ts';
import {
  HEARTBEAT_ENVELOPE_BYTES,
  HeartbeatAssembler,
  splitPresence,
} from './presence-heartbeat.ts';

export interface RoomHubOptions {
  gatewayId: string;
  presenceBatchThreshold: number;
  presenceDiffIntervalMs: number;
  /** How often this gateway announces its whole presence to the others. */
  presenceHeartbeatMs: number;
  /** A gateway not heard from for this long is gone: its users leave. */
  presenceTtlMs: number;
}

/** A room as one gateway sees it: its local sessions and its live subscription. */
interface RoomChannel {
  readonly serverId: number;
  readonly sessions: Set<ChatSession>;
  readonly subscription: Promise<Subscription>;
  diff: { joins: Set<string>; leaves: Set<string>; timer: NodeJS.Timeout } | undefined;
}

/**
 * The rooms of one gateway: fans each live message out to the room's local sessions (serialized
 * once, the same string to every recipient), and keeps room-wide presence with the other
 * gateways through the bus.
 *
 * Presence coalescing: while a room has at most `presenceBatchThreshold` distinct users, each
 * room-wide join or leave is one `join`/`leave` frame. Above it (or while a batch is pending),
 * changes are collected and sent as one `presence_diff` every `presenceDiffIntervalMs`; a join
 * and a leave of the same user inside one interval cancel out.
 */
export class RoomHub {
  readonly presence = new RoomPresence();
  private readonly channels = new Map<number, RoomChannel>();
  private readonly eventSubscription: Subscription;
  private readonly gapSubscription: Subscription;
  /** When each other gateway was last heard from. */
  private readonly gatewaysSeen = new Map<string, number>();
  private readonly heartbeat: NodeJS.Timeout;
  /** Numbers this gateway's heartbeats, so that receivers tell their parts apart. */
  private heartbeatEpoch = 0;
  private readonly heartbeatParts = new HeartbeatAssembler();

  constructor(
    private readonly bus: MessageBus,
    private readonly options: RoomHubOptions,
    private readonly metrics: GatewayMetrics,
    private readonly log: FastifyBaseLogger,
  ) {
    this.eventSubscription = bus.onEvent((event) => this.onBusEvent(event));
    // Clients that may have missed messages come back with `since=` and get them from history.
    this.gapSubscription = bus.onGap(() => {
      for (const session of [...this.sessions()]) {
        session.close(CLOSE.tryAgainLater, 'live feed interrupted: rejoin with since');
      }
    });
    bus.publishEvent({ kind: 'gateway_hello', gatewayId: options.gatewayId });
    this.heartbeat = setInterval(
      guarded('presence_heartbeat', log, () => {
        this.publishState();
        this.expireGateways();
      }),
      options.presenceHeartbeatMs,
    );
    this.heartbeat.unref();
  }

  /**
   * Adds a session to its room: it receives live messages from now on (buffered by the session
   * until its replay is sent) and counts in presence. Resolves once the room's subscription is
   * live, so that a replay read afterwards misses nothing.
   */
  async enter(session: ChatSession): Promise<void> {
    const channel = this.channel(session.serverId);
    channel.sessions.add(session);
    this.metrics.connections.inc();
    const { serverId, username } = session;
    const gatewayId = this.options.gatewayId;
    const firstHere = this.presence.connections(serverId, username, gatewayId) === 0;
    const joined = this.presence.add(serverId, username, gatewayId);
    // the others learn of this gateway's users, whether or not the room already had them
    if (firstHere) this.bus.publishEvent({ kind: 'join', ...this.origin(session) });
    if (joined) this.announce(channel, 'join', username, session);
    await channel.subscription;
  }

  exit(session: ChatSession): void {
    const channel = this.channels.get(session.serverId);
    if (!channel?.sessions.delete(session)) return;
    this.metrics.connections.dec();
    const { serverId, username } = session;
    const gatewayId = this.options.gatewayId;
    const left = this.presence.remove(serverId, username, gatewayId);
    if (this.presence.connections(serverId, username, gatewayId) === 0) {
      this.bus.publishEvent({ kind: 'leave', ...this.origin(session) });
    }
    if (left) this.announce(channel, 'leave', username, session);
    if (channel.sessions.size === 0) this.dropChannel(channel);
  }

  typing(session: ChatSession): void {
    this.bus.publishEvent({ kind: 'typing', ...this.origin(session) });
    this.sendTyping(session.serverId, session.username);
  }

  /** Every local session, for pings and shutdown. */
  *sessions(): Iterable<ChatSession> {
    for (const channel of this.channels.values()) yield* channel.sessions;
  }

  close(): void {
    clearInterval(this.heartbeat);
    this.bus.publishEvent({ kind: 'gateway_gone', gatewayId: this.options.gatewayId });
    this.eventSubscription.unsubscribe();
    this.gapSubscription.unsubscribe();
    for (const channel of this.channels.values()) this.dropChannel(channel);
  }

  private origin(session: ChatSession) {
    return {
      gatewayId: this.options.gatewayId,
      serverId: session.serverId,
      username: session.username,
    };
  }

  private channel(serverId: number): RoomChannel {
    let channel = this.channels.get(serverId);
    if (!channel) {
      const sessions = new Set<ChatSession>();
      const subscription = this.bus.subscribe(serverId, (message) =>
        this.deliver(sessions, message),
      );
      channel = { serverId, sessions, subscription, diff: undefined };
      this.channels.set(serverId, channel);
    }
    return channel;
  }

  private dropChannel(channel: RoomChannel): void {
    if (this.channels.get(channel.serverId) === channel) this.channels.delete(channel.serverId);
    if (channel.diff) clearTimeout(channel.diff.timer);
    channel.subscription.then(
      (subscription) => subscription.unsubscribe(),
      (error: unknown) => this.log.warn({ err: error }, 'room subscription had failed'),
    );
  }

  private deliver(sessions: Set<ChatSession>, message: Message): void {
    const frame = messageFrame(message);
    let sent = 0;
    for (const session of sessions) if (session.deliverMessage(message.id, frame)) sent++;
    this.metrics.messagesOut.inc(sent);
  }

  private onBusEvent(event: RoomEvent): void {
    if (event.gatewayId === this.options.gatewayId) return;
    if (event.kind !== 'gateway_gone') this.gatewaysSeen.set(event.gatewayId, performance.now());
    switch (event.kind) {
      case 'gateway_hello':
        this.publishState();
        break;
      case 'gateway_state': {
        const whole = this.heartbeatParts.add(event.gatewayId, event);
        if (!whole) break;
        for (const change of this.presence.replaceGateway(event.gatewayId, whole)) {
          this.announceRoom(change.serverId, change.kind, change.username);
        }
        break;
      }
      case 'gateway_gone':
        this.gatewaysSeen.delete(event.gatewayId);
        this.heartbeatParts.forget(event.gatewayId);
        this.forgetGateway(event.gatewayId);
        break;
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

  /** This gateway's whole presence, in as many parts as the bus needs, published at once. */
  private publishState(): void {
    const gatewayId = this.options.gatewayId;
    const epoch = ++this.heartbeatEpoch;
    const budget = this.bus.maxEventBytes() - HEARTBEAT_ENVELOPE_BYTES;
    const parts = splitPresence(this.presence.gatewayState(gatewayId), budget);
    parts.forEach((state, i) =>
      this.bus.publishEvent({
        kind: 'gateway_state',
        gatewayId,
        epoch,
        part: i + 1,
        parts: parts.length,
        state,
      }),
    );
  }

  private expireGateways(): void {
    const oldest = performance.now() - this.options.presenceTtlMs;
    for (const [gatewayId, seen] of this.gatewaysSeen) {
      if (seen >= oldest) continue;
      this.log.warn({ gatewayId }, 'gateway silent past PRESENCE_TTL: its users leave');
      this.gatewaysSeen.delete(gatewayId);
      this.heartbeatParts.forget(gatewayId);
      this.forgetGateway(gatewayId);
    }
  }

  /** A gateway went away: its users leave every room they were in through it. */
  private forgetGateway(gatewayId: string): void {
    for (const { serverId, username } of this.presence.removeGateway(gatewayId)) {
      this.announceRoom(serverId, 'leave', username);
    }
  }

  private announceRoom(serverId: number, kind: 'join' | 'leave', username: string): void {
    const channel = this.channels.get(serverId);
    if (channel) this.announce(channel, kind, username, undefined);
  }

  private announce(
    channel: RoomChannel,
    kind: 'join' | 'leave',
    username: string,
    cause: ChatSession | undefined,
  ): void {
    if (
      channel.diff ||
      this.presence.size(channel.serverId) > this.options.presenceBatchThreshold
    ) {
      this.batch(channel, kind, username);
      return;
    }
    const frame = serialize({ type: kind, username });
    for (const session of channel.sessions) {
      if (session !== cause) session.deliverPresence(frame);
    }
  }

  private batch(channel: RoomChannel, kind: 'join' | 'leave', username: string): void {
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

  private flushDiff(channel: RoomChannel): void {
    const diff = channel.diff;
    channel.diff = undefined;
    if (!diff || (diff.joins.size === 0 && diff.leaves.size === 0)) return;
    const frame = serialize({
      type: 'presence_diff',
      joins: [...diff.joins].sort(compareCodePoints),
      leaves: [...diff.leaves].sort(compareCodePoints),
    });
    for (const session of channel.sessions) session.deliverPresence(frame);
  }

  private sendTyping(serverId: number, username: string): void {
    const channel = this.channels.get(serverId);
    if (!channel) return;
    const frame = serialize({ type: 'typing', username });
    for (const session of channel.sessions) {
      if (session.username !== username) session.deliverEphemeral(frame);
    }
  }
}
