/**
 * The send-buffer policy of one session, against a socket whose buffer the test controls (a real
 * socket's buffer depends on kernel buffers; the 4408 close is tested for real in
 * test/integration/websocket.test.ts).
 */
import { EventEmitter } from 'node:events';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import type { HistoryClient, MessageBus } from '../../src/bus/types.ts';
import { loadConfig } from '../../src/config.ts';
import { RoomPresence } from '../../src/domain/presence.ts';
import { createMetrics } from '../../src/gateway/metrics.ts';
import { ChatSession } from '../../src/gateway/ws/chat-session.ts';
import type { RoomHub } from '../../src/gateway/ws/room-hub.ts';

class BufferedSocket extends EventEmitter {
  readonly OPEN = 1;
  readyState = 1;
  bufferedAmount = 0;
  sent: string[] = [];
  closedWith: number | undefined;
  send(frame: string) {
    this.sent.push(frame);
  }
  close(code: number) {
    this.closedWith = code;
    this.readyState = 3;
  }
  terminate() {}
  ping() {}
}

async function openSession(limit: number) {
  const socket = new BufferedSocket();
  const config = loadConfig({ SEND_BUFFER_LIMIT: String(limit) });
  const presence = new RoomPresence();
  presence.add(1, 'me', 'g');
  const hub = { enter: () => Promise.resolve(), exit: () => {}, presence };
  const history = {
    replay: () => Promise.resolve({ messages: [], lastId: 0, more: false, reset: false }),
  };
  const session = new ChatSession(
    socket as unknown as WebSocket,
    { serverId: 1, username: 'me', since: undefined },
    {
      config,
      bus: {} as MessageBus,
      history: history as unknown as HistoryClient,
      hub: hub as unknown as RoomHub,
      metrics: createMetrics({
        rooms: () => Promise.resolve(1),
        historyLag: () => Promise.resolve(0),
      }),
      log: pino({ level: 'silent' }),
    },
  );
  await session.start();
  socket.sent.length = 0;
  return { socket, session };
}

describe('a session’s send buffer', () => {
  it('drops typing frames once the buffer is past half the limit, but still sends messages', async () => {
    const { socket, session } = await openSession(1024);
    session.deliverEphemeral('typing-1');
    socket.bufferedAmount = 513;
    session.deliverEphemeral('typing-2');
    session.deliverMessage(1, 'message-1');
    expect(socket.sent).toEqual(['typing-1', 'message-1']);
    expect(socket.closedWith).toBeUndefined();
  });

  it('closes with 4408 once the buffer is past the limit, and sends nothing more', async () => {
    const { socket, session } = await openSession(1024);
    socket.bufferedAmount = 1024;
    session.deliverMessage(1, 'message-1');
    expect(socket.closedWith).toBeUndefined();
    socket.bufferedAmount = 1025;
    session.deliverMessage(2, 'message-2');
    session.deliverMessage(3, 'message-3');
    expect(socket.sent).toEqual(['message-1']);
    expect(socket.closedWith).toBe(4408);
  });

  it('never sends a message id twice or one at or below the replay', async () => {
    const { socket, session } = await openSession(1024);
    session.deliverMessage(5, 'five');
    session.deliverMessage(5, 'five again');
    session.deliverMessage(4, 'four');
    session.deliverMessage(6, 'six');
    expect(socket.sent).toEqual(['five', 'six']);
  });
});
