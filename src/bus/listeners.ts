import type { AccessUpdate } from '../domain/access-events.ts';
import type { RoomChange } from '../domain/changes.ts';
import type { ReaderTrigger } from '../domain/unread.ts';
import { reportInternalError } from '../internal-errors.ts';
import type { RoomEvent, Subscription } from './types.ts';

/**
 * The local end of a bus: handlers of each room's messages and changes, and room-event handlers. A handler that
 * throws is reported and skipped: the others still get the message, and the NATS callback or
 * write loop that called it goes on (a JetStream consumer whose callback throws stops).
 */
export class BusListeners {
  private readonly rooms = new Map<number, Set<(change: RoomChange) => void>>();
  private readonly events = new Set<(event: RoomEvent) => void>();
  private readonly access = new Set<(update: AccessUpdate) => void>();
  private readonly watchers = new Set<{
    wants: (serverId: number) => boolean;
    onChange: (change: RoomChange) => void;
  }>();
  private readonly readers = new Set<(triggers: ReaderTrigger[], seq: number) => void>();

  onRoom(serverId: number, handler: (change: RoomChange) => void): Subscription {
    let handlers = this.rooms.get(serverId);
    if (!handlers) this.rooms.set(serverId, (handlers = new Set()));
    handlers.add(handler);
    return {
      unsubscribe: () => {
        handlers.delete(handler);
        if (handlers.size === 0 && this.rooms.get(serverId) === handlers) {
          this.rooms.delete(serverId);
        }
      },
    };
  }

  /** Changes of every room `wants` says yes to (asked again for each change). */
  watch(
    wants: (serverId: number) => boolean,
    onChange: (change: RoomChange) => void,
  ): Subscription {
    const watcher = { wants, onChange };
    this.watchers.add(watcher);
    return { unsubscribe: () => this.watchers.delete(watcher) };
  }

  /** True when somebody here listens to the room (so its message is worth decoding). */
  listensTo(serverId: number): boolean {
    if (this.rooms.has(serverId)) return true;
    for (const watcher of this.watchers) if (watcher.wants(serverId)) return true;
    return false;
  }

  /** A new message or a change to one, to the room's handlers, then to its watchers. */
  deliver(change: RoomChange): void {
    const serverId = change.type === 'message' ? change.message.server_id : change.server_id;
    const handlers = this.rooms.get(serverId);
    if (handlers) for (const handler of handlers) call(handler, change);
    for (const watcher of this.watchers) {
      if (watcher.wants(serverId)) call(watcher.onChange, change);
    }
  }

  onReaderTriggers(handler: (triggers: ReaderTrigger[], seq: number) => void): Subscription {
    this.readers.add(handler);
    return { unsubscribe: () => this.readers.delete(handler) };
  }

  emitReaderTriggers(triggers: ReaderTrigger[], seq: number): void {
    if (triggers.length === 0) return;
    for (const handler of this.readers) call((t: ReaderTrigger[]) => handler(t, seq), triggers);
  }

  onEvent(handler: (event: RoomEvent) => void): Subscription {
    this.events.add(handler);
    return { unsubscribe: () => this.events.delete(handler) };
  }

  emit(event: RoomEvent): void {
    for (const handler of this.events) call(handler, event);
  }

  onAccessChange(handler: (update: AccessUpdate) => void): Subscription {
    this.access.add(handler);
    return { unsubscribe: () => this.access.delete(handler) };
  }

  emitAccessChange(update: AccessUpdate): void {
    for (const handler of this.access) call(handler, update);
  }
}

function call<T>(handler: (value: T) => void, value: T): void {
  try {
    handler(value);
  } catch (error) {
    reportInternalError('bus_listener', error);
  }
}
