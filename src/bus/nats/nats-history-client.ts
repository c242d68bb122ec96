import type { Message, Room } from '../../domain/message.ts';
import { ChatError, ERRORS, UnavailableError } from '../../errors.ts';
import type { ErrorCode } from '../../errors.ts';
import type { HistoryClient, MessagePage, Replay, ReplayRequest } from '../types.ts';
import type { NatsLink } from './connection.ts';
import { requestInParts } from './parts.ts';
import { historySubject } from './subjects.ts';
import type { HistoryOp, HistoryReply } from './subjects.ts';

export interface HistoryStatus {
  /** Messages in the stream not yet persisted. */
  lag: number;
  /** The highest stream sequence persisted. */
  persisted: number;
  /** The history service's database takes writes. */
  writable: boolean;
}

const decoder = new TextDecoder();

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
    return (await this.call<Room | null>('room', { id })) ?? undefined;
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

  private async call<T>(op: HistoryOp, body: unknown): Promise<T> {
    if (!this.link.isConnected()) {
      throw new UnavailableError('The history service cannot be reached: NATS is disconnected');
    }
    let reply: HistoryReply<T>;
    try {
      const answer = await requestInParts(
        this.link.nc,
        historySubject(op),
        JSON.stringify(body),
        this.timeoutMs,
      );
      reply = JSON.parse(decoder.decode(answer)) as HistoryReply<T>;
    } catch (error) {
      throw new UnavailableError('The history service did not answer', { cause: error });
    }
    if (reply.ok) return reply.result;
    if (reply.code in ERRORS && reply.code !== 'unavailable') {
      throw new ChatError(reply.code as ErrorCode, reply.message);
    }
    throw new UnavailableError(reply.message);
  }
}
