/**
 * The ports of chatroom. The two seams between a gateway and the rest: the gateway never touches
 * storage, it publishes through a `MessageBus` and reads through a `HistoryClient`. Embedded mode
 * has in-process implementations; NATS mode implements the same interfaces over JetStream. And
 * the one seam between the embedded bus and storage: `DurableLog`, which the history service
 * implements, so that the bus never depends on the history service itself.
 */
import type { AccessSnapshot, AccessUpdate } from '../domain/access-events.ts';
import type { AttachmentInfo, NewUpload } from '../domain/attachments.ts';
import type { ChangeOutcome, ChangeRequest, ChangeResult, RoomChange } from '../domain/changes.ts';
import type {
  LoginRequest,
  NewToken,
  PasswordChange,
  RegisterRequest,
} from '../domain/account-requests.ts';
import type { MessagePage, Replay, ReplayRequest } from '../domain/history.ts';
import type { SearchPage, SearchRequest } from '../domain/history.ts';
import type { Invite, TokenInfo, User } from '../domain/identity.ts';
import type { Message, MessageDraft, Tombstone } from '../domain/message.ts';
import type { Room, RoomUpdate, Viewer } from '../domain/rooms.ts';
import type { GatewayPresence } from '../domain/presence.ts';
import type { Mentions } from '../domain/mentions.ts';
import type { NotifyLevel } from '../domain/notify.ts';
import type {
  NotifyAnswer,
  ReadMarker,
  Reader,
  ReaderTrigger,
  RoomUnread,
  UnreadCounts,
} from '../domain/unread.ts';

export type { MessagePage, Replay, ReplayRequest } from '../domain/history.ts';
export type {
  LoginRequest,
  NewToken,
  PasswordChange,
  RegisterRequest,
} from '../domain/account-requests.ts';

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
   * Whether live messages carry their `mentions` (embedded mode: storage found them before they
   * were delivered) or not (NATS mode: the history service finds them when it stores them).
   */
  readonly liveMentions: boolean;
  /**
   * Appends a message to the durable log. Resolves once it is durable; rejects with
   * `UnavailableError` when that cannot be confirmed (the message may or may not be stored).
   * A draft whose (room, username, client_id) was published within the dedupe window is not
   * stored again: it resolves to the first message's id with `duplicate: true`.
   */
  publish(draft: MessageDraft): Promise<PublishResult>;
  /**
   * An edit, delete or reaction: storage judges it and, when it takes it, gives it a seq and
   * delivers it to the room's subscribers. Resolves once it is durable (a resend or a no-op
   * reaction: with the seq it had); rejects with the refusal's ChatError (`not_found`,
   * `forbidden`, `edit_window`, `too_many_reactions`) or `UnavailableError`.
   */
  change(request: ChangeRequest): Promise<ChangeResult>;
  /**
   * Delivers every message and change of a room accepted after the returned promise resolves, in
   * seq order, once each. A gateway subscribes before it reads a replay and merges the two by seq.
   */
  subscribe(serverId: number, onChange: (change: RoomChange) => void): Promise<Subscription>;
  /**
   * Calls `handler` when the live feed lost its place (the log no longer holds what follows it):
   * subscribers may have missed messages, so their clients must rejoin with `since=`.
   */
  onGap(handler: () => void): Subscription;
  /**
   * Every message and change of every room `wants` says yes to, in seq order, once each (what a
   * gateway needs for the unread counts and `mention` frames of its users' other rooms).
   */
  watchRooms(
    wants: (serverId: number) => boolean,
    onChange: (change: RoomChange) => void,
  ): Subscription;
  /**
   * After each state event storage applied (in log order): whose counts, level or rooms it may
   * have changed; `seq`: its position (NATS: the stream sequence; embedded: 0).
   */
  onReaderTriggers(handler: (triggers: ReaderTrigger[], seq: number) => void): Subscription;
  /** Best effort: an event that cannot be sent is dropped (and logged), never thrown. */
  publishEvent(event: RoomEvent): void;
  /** The largest event `publishEvent` carries, in bytes of JSON (NATS: the server's max_payload). */
  maxEventBytes(): number;
  onEvent(handler: (event: RoomEvent) => void): Subscription;
  /**
   * Access changes (logout, password change, token revocation, disabled user) as storage
   * commits them, in feed order, for the gateway's AccessState.
   */
  onAccessChange(handler: (update: AccessUpdate) => void): Subscription;
  /**
   * Resolves, once the access feed runs, with its position: every change up to it is one the
   * feed will not deliver (a snapshot must hold it), every change after it reaches
   * `onAccessChange` handlers registered before the call. Embedded mode: 0 (its feed is the
   * store's own, and a snapshot is always current).
   */
  accessFeedPosition(): Promise<number>;
  /** True while the bus can take messages (for `/readyz`). */
  isReady(): boolean;
  close(): Promise<void>;
}

/**
 * Rooms and history. Every method rejects with `UnavailableError` when storage cannot answer.
 * `viewer` is who asks, from their credentials (`null`: open mode's anonymous caller): storage
 * answers only what they may see (a room they may not see is `room_not_found`, as an unknown one).
 */
export interface HistoryClient {
  /**
   * The rooms the viewer sees, by id: the archived ones, or the others; with `reader`, each with
   * that user's `unread`, `mentions`, `last_read` and `notify`.
   */
  listRooms(viewer: Viewer | null, archived: boolean, reader?: string): Promise<Room[]>;
  /** How many rooms there are (for `/metrics`), without reading them. */
  roomCount(): Promise<number>;
  getRoom(id: number, viewer: Viewer | null): Promise<Room | undefined>;
  /** Rejects with ChatError `room_name_taken` when the viewer sees a room of that name. */
  createRoom(name: string, isPrivate: boolean, viewer: Viewer | null): Promise<Room>;
  /** A private room's members, sorted (`bad_request` for a public room). */
  members(id: number, viewer: Viewer | null): Promise<string[]>;
  /** Owner or admin (`forbidden`); `existed`: was a member already. */
  addMember(
    id: number,
    username: string,
    viewer: Viewer | null,
  ): Promise<{ members: string[]; existed: boolean }>;
  /** Owner, admin, or the member themself; their sockets to the room close (access feed). */
  removeMember(id: number, username: string, viewer: Viewer | null): Promise<void>;
  updateRoom(id: number, update: RoomUpdate, viewer: Viewer | null): Promise<Room>;
  /** The DM of the viewer and `username`; `existed`: it was opened before. */
  openDm(username: string, viewer: Viewer | null): Promise<{ room: Room; existed: boolean }>;
  /** A page by id (`before`/`after`: no deleted messages), or what changed after a seq. */
  messages(page: MessagePage): Promise<Array<Message | Tombstone>>;
  /** One message of the room as REST shows it; undefined when unknown or deleted. */
  message(serverId: number, id: number): Promise<Message | undefined>;
  /**
   * A joining client's replay. It holds every message published before the call (the NATS
   * history service waits until it has persisted the stream up to the request).
   */
  replay(request: ReplayRequest): Promise<Replay>;
  /**
   * Records an upload whose bytes are stored: to a room the viewer sees (else `room_not_found`).
   */
  recordUpload(upload: NewUpload, viewer: Viewer | null): Promise<AttachmentInfo>;
  /**
   * An attachment, if it may be read: a sent one by who sees its message's room, an unsent one
   * by its uploader (`username`: who asks, the viewer's name or open mode's `?username=`; null
   * for nobody: `bad_request` for an unsent one). Undefined for everyone else.
   */
  attachment(
    id: string,
    viewer: Viewer | null,
    username: string | null,
  ): Promise<AttachmentInfo | undefined>;
  /**
   * What a search finds among the messages the viewer may read now, newest first; rejects with
   * `bad_query` for a query the contract refuses (NATS mode: no answer in time, `unavailable`).
   */
  search(request: SearchRequest): Promise<SearchPage>;
  isReady(): Promise<boolean>;
  /** Messages in the log not yet persisted (for the `history lag` metric). */
  lag(): Promise<number>;
  /**
   * The user's rooms with their counts, once storage has applied the log up to `after`.
   * `enter`: a room the user opens now (a public one joins their rooms; in open mode the user
   * becomes known).
   */
  unreadState(username: string, enter: number | undefined, after: number): Promise<RoomUnread[]>;
  /**
   * Counts of (username, room) pairs, null where the room is not the user's, once storage has
   * applied the log up to `after` (NATS mode: a stream sequence the asker saw).
   */
  unreadCounts(
    pairs: ReadonlyArray<readonly [string, number]>,
    after: number,
  ): Promise<Array<RoomUnread | null>>;
  /** `PUT …/read`: `room_not_found` for a room the reader may not see. */
  markRead(serverId: number, id: number, reader: Reader): Promise<UnreadCounts>;
  /** `read` frames, collected by a gateway: markers moved forward where they move. */
  moveMarkers(markers: readonly ReadMarker[]): Promise<void>;
  setNotify(serverId: number, level: NotifyLevel, reader: Reader): Promise<NotifyAnswer>;
  /** `DELETE …/membership` (`bad_request` for a private room). */
  leaveRoom(serverId: number, reader: Reader): Promise<void>;
  /** The mentions of stored messages (null: unknown or deleted), once applied up to `after`. */
  mentionsOf(
    messages: ReadonlyArray<readonly [number, number]>,
    after: number,
  ): Promise<Array<Mentions | null>>;
}

/** A draft with the time the bus accepted it (the message's `ts`). */
export interface StoredDraft {
  draft: MessageDraft;
  ts: string;
}

export type AppendResult =
  | { id: number; duplicate: false; message: Message }
  | { id: number; duplicate: true }
  /** `reply_to` names no message of the room that is not deleted: nothing was stored. */
  | { refused: 'bad_reply' }
  /** `attachments` are not the sender's unsent uploads to the room: nothing was stored. */
  | { refused: 'bad_attachment' };

/** The durable log as the embedded bus sees it: it writes a batch of drafts at a time. */
export interface DurableLog {
  /**
   * Numbers and stores drafts in one transaction; answers each draft's id in order. A draft whose
   * client_id was stored at or after `dedupeSinceTs` is a duplicate: it gets the first id. Throws
   * when nothing was stored.
   */
  appendDrafts(drafts: readonly StoredDraft[], dedupeSinceTs: string): AppendResult[];
  /** Judges and applies one change in one transaction (see ChangesStore). */
  applyChange(request: ChangeRequest, dedupeSinceTs: string): ChangeOutcome;
}

/**
 * Accounts, tokens, invites and sessions: storage owns them (SQLite, in the storage process);
 * the gateway asks. Every change is an access event applied by storage (see
 * domain/access-events.ts); the changes gateways must act on come back through
 * `MessageBus.onAccessChange`. Refusals reject with a ChatError of the catalogue
 * (`invalid_credentials`, `username_taken`, `forbidden`, ...); storage out of reach with
 * `UnavailableError`.
 */
export interface AccountsClient {
  /** The new user (the first account is the admin). */
  register(request: RegisterRequest): Promise<User>;
  /** The user, when the password is right (rejects `rate_limited` past the login limits). */
  login(request: LoginRequest): Promise<User>;
  /** Resolves with the time (ms) before which the user's other credentials were issued. */
  changePassword(change: PasswordChange): Promise<number>;
  /** Logout: the session is refused until `until` (ms). */
  endSession(sid: string, until: number): Promise<void>;
  createToken(token: NewToken): Promise<TokenInfo>;
  listTokens(username: string): Promise<TokenInfo[]>;
  /** Rejects `not_found` for a token that is not the user's. */
  revokeToken(username: string, id: string): Promise<void>;
  /** `by` must be an admin (else `forbidden`). */
  createInvite(by: string): Promise<Invite>;
  revokeInvite(by: string, code: string): Promise<void>;
  /** `by` must be an admin, and not `username` itself. */
  setDisabled(by: string, username: string, disabled: boolean): Promise<User>;
  /** The user whose name folds to this one's key. */
  getUser(username: string): Promise<User | undefined>;
  /** JWT mode: the user exists from their first valid token. */
  recordUser(username: string): Promise<void>;
  /**
   * The access state, reflecting at least every change up to feed position `after` (NATS mode:
   * the history service first applies the stream up to it); its `position` says exactly where.
   */
  accessSnapshot(after?: number): Promise<AccessSnapshot>;
  /** Whether any account exists yet (the page says the first one becomes the admin). */
  hasUsers(): Promise<boolean>;
}
