import type { Message, Room } from '../../domain/message.ts';
import type { NatsLink } from '../../nats/connection.ts';
import type {
  HistoryOp,
  HistoryReply,
  HistoryRequest,
  HistoryStatus,
} from '../../nats/history-ops.ts';
import { askHistory } from './ask-history.ts';
import type { HistoryClient, MessagePage, Replay, ReplayRequest } from '../types.ts';

/** Asks the history service (any member of its queue group) over NATS request/reply. */
export class NatsHistoryClient implements HistoryClient {
  constructor(
    private readonly link: NatsLink,
    private readonly timeoutMs: number,
  ) {}

  listRooms(): Promise<Room[]> {
    return this.call('rooms', {});
  }

  roomCount(): Promise<number> {
    return this.call('room_count', {});
  }

  async getRoom(id: number): Promise<Room | undefined> {
    return (await this.call('room', { id })) ?? undefined;
  }

  createRoom(name: string): Promise<Room> {
    return this.call('create_room', { name });
  }

  messages(page: MessagePage): Promise<Message[]> {
    return this.call('messages', page);
  }

  replay(request: ReplayRequest): Promise<Replay> {
    return this.call('replay', request);
  }

  async isReady(): Promise<boolean> {
    try {
      return (await this.status()).writable;
    } catch {
      return false;
    }
  }

  async lag(): Promise<number> {
    return (await this.status()).lag;
  }

  status(): Promise<HistoryStatus> {
    return this.call('status', {});
  }

  private call<Op extends HistoryOp>(
    op: Op,
    request: HistoryRequest<Op>,
  ): Promise<HistoryReply<Op>> {
    return askHistory(this.link, this.timeoutMs, op, request);
  }
}
