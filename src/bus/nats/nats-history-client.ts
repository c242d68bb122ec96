import type { Message, Room } from '../../domain/message.ts';
import { ChatError, ERRORS, UnavailableError } from '../../errors.ts';
import type { ErrorCode } from '../../errors.ts';
import { reportInternalError } from '../../internal-errors.ts';
import type { NatsLink } from '../../nats/connection.ts';
import { MalformedPayloadError } from '../../nats/guards.ts';
import { parseHistoryAnswer } from '../../nats/history-ops.ts';
import type {
  HistoryOp,
  HistoryReply,
  HistoryRequest,
  HistoryStatus,
} from '../../nats/history-ops.ts';
import { requestInParts } from '../../nats/parts.ts';
import { historySubject } from '../../nats/subjects.ts';
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

  private async call<Op extends HistoryOp>(
    op: Op,
    request: HistoryRequest<Op>,
  ): Promise<HistoryReply<Op>> {
    if (!this.link.isConnected()) {
      throw new UnavailableError('The history service cannot be reached: NATS is disconnected');
    }
    let answer: Uint8Array;
    try {
      answer = await requestInParts(
        this.link.nc,
        historySubject(op),
        JSON.stringify(request),
        this.timeoutMs,
      );
    } catch (error) {
      throw new UnavailableError('The history service did not answer', { cause: error });
    }
    const reply = parseHistoryAnswer(op, answer);
    if (!reply.ok) {
      const malformed = new MalformedPayloadError(reply.reason);
      reportInternalError('history_reply', malformed);
      throw new UnavailableError('The history service did not answer', { cause: malformed });
    }
    const answered = reply.value;
    if (answered.ok) return answered.result;
    if (Object.hasOwn(ERRORS, answered.code) && answered.code !== 'unavailable') {
      throw new ChatError(answered.code as ErrorCode, answered.message);
    }
    throw new UnavailableError(answered.message);
  }
}
