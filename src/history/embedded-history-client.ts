import type { Room } from '../domain/message.ts';
import type { HistoryClient, MessagePage, Replay, ReplayRequest } from '../bus/types.ts';
import { ChatError, UnavailableError } from '../errors.ts';
import type { HistoryService } from './history-service.ts';

/** The history client of embedded mode: direct calls into the in-process history service. */
export class EmbeddedHistoryClient implements HistoryClient {
  constructor(private readonly history: HistoryService) {}

  listRooms(): Promise<Room[]> {
    return this.call(() => this.history.listRooms());
  }

  roomCount(): Promise<number> {
    return this.call(() => this.history.roomCount());
  }

  getRoom(id: number): Promise<Room | undefined> {
    return this.call(() => this.history.getRoom(id));
  }

  createRoom(name: string): Promise<Room> {
    return this.call(() => this.history.createRoom(name));
  }

  messages(page: MessagePage) {
    return this.call(() => this.history.messages(page));
  }

  replay(request: ReplayRequest): Promise<Replay> {
    return this.call(() => this.history.replay(request));
  }

  isReady(): Promise<boolean> {
    return this.call(() => this.history.isWritable()).catch(() => false);
  }

  lag(): Promise<number> {
    return Promise.resolve(0);
  }

  private call<T>(read: () => T): Promise<T> {
    try {
      return Promise.resolve(read());
    } catch (error) {
      if (error instanceof ChatError) return Promise.reject(error);
      return Promise.reject(new UnavailableError(undefined, { cause: error }));
    }
  }
}
