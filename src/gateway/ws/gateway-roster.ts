/**
 * The other gateways, as this one knows them. Every PRESENCE_HEARTBEAT a gateway announces its
 * whole presence (at once to a gateway that says hello); the others replace what they knew of it.
 * A gateway that says it is gone, or stays silent past PRESENCE_TTL, loses its users.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { MessageBus, RoomEvent } from '../../bus/types.ts';
import type { RoomPresence } from '../../domain/presence.ts';
import { guarded } from '../../internal-errors.ts';
import {
  HEARTBEAT_ENVELOPE_BYTES,
  HeartbeatAssembler,
  splitPresence,
} from './presence-heartbeat.ts';

export interface RosterOptions {
  gatewayId: string;
  /** How often this gateway announces its whole presence to the others. */
  presenceHeartbeatMs: number;
  /** A gateway not heard from for this long is gone: its users leave. */
  presenceTtlMs: number;
}

/** A user joined or left a room through another gateway. */
export type PresenceChange = (serverId: number, kind: 'join' | 'leave', username: string) => void;

export class GatewayRoster {
  /** When each other gateway was last heard from. */
  private readonly seen = new Map<string, number>();
  private heartbeat: NodeJS.Timeout | undefined;
  /** Numbers this gateway's heartbeats, so that receivers tell their parts apart. */
  private epoch = 0;
  private readonly parts = new HeartbeatAssembler();

  constructor(
    private readonly bus: Pick<MessageBus, 'publishEvent' | 'maxEventBytes'>,
    private readonly presence: RoomPresence,
    private readonly options: RosterOptions,
    private readonly log: FastifyBaseLogger,
    private readonly onChange: PresenceChange,
  ) {}

  /**
   * Says hello (the others answer with their presence) and starts the heartbeat. Call it once
   * events reach `hear`: an in-process bus answers before `publishEvent` returns.
   */
  start(): void {
    this.bus.publishEvent({ kind: 'gateway_hello', gatewayId: this.options.gatewayId });
    this.heartbeat = setInterval(
      guarded('presence_heartbeat', this.log, () => {
        this.publishState();
        this.expireGateways();
      }),
      this.options.presenceHeartbeatMs,
    );
    this.heartbeat.unref();
  }

  /**
   * Any event of another gateway: it is alive. Handles the gateway events (hello, state, gone);
   * the room events (join, leave, typing) are the hub's.
   */
  hear(event: RoomEvent): void {
    if (event.kind !== 'gateway_gone') this.seen.set(event.gatewayId, performance.now());
    switch (event.kind) {
      case 'gateway_hello':
        this.publishState();
        break;
      case 'gateway_state': {
        const whole = this.parts.add(event.gatewayId, event);
        if (!whole) break;
        for (const change of this.presence.replaceGateway(event.gatewayId, whole)) {
          this.onChange(change.serverId, change.kind, change.username);
        }
        break;
      }
      case 'gateway_gone':
        this.seen.delete(event.gatewayId);
        this.parts.forget(event.gatewayId);
        this.forgetGateway(event.gatewayId);
        break;
    }
  }

  /** Stops the heartbeat and tells the others that this gateway's users leave now. */
  close(): void {
    clearInterval(this.heartbeat);
    this.bus.publishEvent({ kind: 'gateway_gone', gatewayId: this.options.gatewayId });
  }

  /** This gateway's whole presence, in as many parts as the bus needs, published at once. */
  private publishState(): void {
    const gatewayId = this.options.gatewayId;
    const epoch = ++this.epoch;
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
    for (const [gatewayId, seen] of this.seen) {
      if (seen >= oldest) continue;
      this.log.warn({ gatewayId }, 'gateway silent past PRESENCE_TTL: its users leave');
      this.seen.delete(gatewayId);
      this.parts.forget(gatewayId);
      this.forgetGateway(gatewayId);
    }
  }

  /** A gateway went away: its users leave every room they were in through it. */
  private forgetGateway(gatewayId: string): void {
    for (const { serverId, username } of this.presence.removeGateway(gatewayId)) {
      this.onChange(serverId, 'leave', username);
    }
  }
}
