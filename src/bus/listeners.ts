import type { Message } from '../domain/message.ts';
import type { RoomEvent, Subscription } from './types.ts';

/** The local end of a bus: message handlers per room, and room-event handlers. */
export class BusListeners {
  private readonly rooms = new Map<number, Set<(message: Message) => void>>();
  private readonly events = new Set<(event: RoomEvent) => void>();

  onRoom(serverId: number, handler: (message: Message) => void): Subscription {
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

  deliver(message: Message): void {
    const handlers = this.rooms.get(message.server_id);
    if (handlers) for (const handler of handlers) handler(message);
  }

  onEvent(handler: (event: RoomEvent) => void): Subscription {
    this.events.add(handler);
    return { unsubscribe: () => this.events.delete(handler) };
  }

  emit(event: RoomEvent): void {
    for (const handler of this.events) handler(event);
  }
}
