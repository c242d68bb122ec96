import type { AccessUpdate } from '../domain/access-events.ts';
import type { RoomChange } from '../domain/changes.ts';
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

  /** True when somebody here listens to the room (so its message is worth decoding). */
  listensTo(serverId: number): boolean {
    return this.rooms.has(serverId);
  }

  /** A new message or a change to one, to the room's handlers. */
  deliver(change: RoomChange): void {
    const serverId = change.type === 'message' ? change.message.server_id : change.server_id;
    const handlers = this.rooms.get(serverId);
    if (handlers) for (const handler of handlers) call(handler, change);
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
