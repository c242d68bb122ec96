/**
 * The two seams between a gateway and the rest of chatroom. The gateway never touches storage:
 * it publishes through a `MessageBus` and reads through a `HistoryClient`. Embedded mode has
 * in-process implementations; NATS mode implements the same interfaces over JetStream.
 */
import type { Message, MessageDraft, Room } from '../domain/message.ts';
import type { GatewayPresence } from '../domain/presence.ts';

export interface Subscription {
  unsubscribe(): void;
}

export interface PublishResult {
  /** The message's id: its position in the durable log (JetStream: the stream sequence). */
  id: number;
  /** True when the draft's client_id was already published; `id` is then the first message's. */
  duplicate: boolean;
}

/**
 * One part of a gateway's whole presence, sent as a heartbeat: the `parts` parts of one `epoch`
 * together replace what was known of the gateway (a room may span parts; each part's JSON fits
 * the bus's `maxEventBytes`). Part numbers run from 1 to `parts`.
 */
export interface GatewayStatePart {
  epoch: number;
  part: number;
  parts: number;
  state: GatewayPresence;
}

/**
 * Ephemeral room events. They are not stored; each says which gateway sent it so that a gateway
 * can skip its own (it applied them locally already).
 */
export type RoomEvent =
  | { kind: 'join' | 'leave'; gatewayId: string; serverId: number; username: string }
  | { kind: 'typing'; gatewayId: string; serverId: number; username: string }
  /** A part of a gateway's heartbeat: a whole epoch replaces what was known of it. */
  | ({ kind: 'gateway_state'; gatewayId: string } & GatewayStatePart)
  /** A gateway started: the others answer with their state at once. */
  | { kind: 'gateway_hello'; gatewayId: string }
  /** A gateway is shutting down: its users leave now rather than when its heartbeats stop. */
  | { kind: 'gateway_gone'; gatewayId: string };

export interface MessageBus {
  /**
   * Appends a message to the durable log. Resolves once it is durable; rejects with
   * `UnavailableError` when that cannot be confirmed (the message may or may not be stored).
   * A draft whose (room, username, client_id) was published within the dedupe window is not
   * stored again: it resolves to the first message's id with `duplicate: true`.
   */
  publish(draft: MessageDraft): Promise<PublishResult>;
  /**
   * Delivers every message of a room accepted after the returned promise resolves, in log order,
   * once each. A gateway subscribes before it reads a replay and merges the two by id.
   */
  subscribe(serverId: number, onMessage: (message: Message) => void): Promise<Subscription>;
  /**
   * Calls `handler` when the live feed lost its place (the log no longer holds what follows it):
   * subscribers may have missed messages, so their clients must rejoin with `since=`.
   */
  onGap(handler: () => void): Subscription;
  /** Best effort: an event that cannot be sent is dropped (and logged), never thrown. */
  publishEvent(event: RoomEvent): void;
  /** The largest event `publishEvent` carries, in bytes of JSON (NATS: the server's max_payload). */
  maxEventBytes(): number;
  onEvent(handler: (event: RoomEvent) => void): Subscription;
  /** True while the bus can take messages (for `/readyz`). */
  isReady(): boolean;
  close(): Promise<void>;
}

export interface ReplayRequest {
  serverId: number;
  /** The client's last seen id; undefined for a fresh join. */
  since?: number | undefined;
  /** Messages for a fresh join (HISTORY_REPLAY). */
  replayCount: number;
  /** Most messages for a `since` catch-up; past that `more` is set. */
  sinceLimit: number;
  /**
   * Most bytes of JSON the messages may take as one array (the frame's envelope is the caller's
   * to leave room for): a `since` catch-up sends fewer and sets `more`, a fresh join sends the
   * newest that fit.
   */
  maxBytes: number;
}

export interface Replay {
  messages: Message[];
  /**
   * The room's newest id when the replay was read. Every message with an id up to it that the
   * replay leaves out is older than the replay (or, with `more`, pageable through REST).
   */
  lastId: number;
  more: boolean;
  /** `since` was past the room's newest id: the answer is a fresh join's. */
  reset: boolean;
}

export interface MessagePage {
  serverId: number;
  limit: number;
  before?: number | undefined;
  after?: number | undefined;
  /** Most bytes of JSON the page may take as one array: it then holds fewer than `limit`. */
  maxBytes?: number | undefined;
}

/** Rooms and history. Every method rejects with `UnavailableError` when storage cannot answer. */
export interface HistoryClient {
  listRooms(): Promise<Room[]>;
  /** How many rooms there are (for `/metrics`), without reading them. */
  roomCount(): Promise<number>;
  getRoom(id: number): Promise<Room | undefined>;
  /** Rejects with ChatError `room_name_taken` when the name is taken (case-insensitive). */
  createRoom(name: string): Promise<Room>;
  messages(page: MessagePage): Promise<Message[]>;
  /**
   * A joining client's replay. It holds every message published before the call (the NATS
   * history service waits until it has persisted the stream up to the request).
   */
  replay(request: ReplayRequest): Promise<Replay>;
  isReady(): Promise<boolean>;
  /** Messages in the log not yet persisted (for the `history lag` metric). */
  lag(): Promise<number>;
}
