/**
 * The send-buffer policy of one session, against a socket whose buffer the test controls (a real
 * socket's buffer depends on kernel buffers; the 4408 close is tested for real in
 * test/integration/websocket.test.ts).
 */
import { EventEmitter } from 'node:events';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { RoomPresence } from '../../src/domain/presence.ts';
import { createMetrics } from '../../src/gateway/metrics.ts';
import { ChatSession } from '../../src/gateway/ws/chat-session.ts';
import type { RoomEntry, SessionConfig } from '../../src/gateway/ws/chat-session.ts';

class BufferedSocket extends EventEmitter {
  readonly OPEN = 1;
  readyState = 1;
  bufferedAmount = 0;
  sent: string[] = [];
  closedWith: number | undefined;
  /** ws's send callbacks, called once a frame is written: here when the test says so. */
  private unwritten: Array<() => void> = [];
  send(frame: string, written?: () => void) {
    this.sent.push(frame);
    if (written) this.unwritten.push(written);
  }
  writeAll() {
    for (const written of this.unwritten.splice(0)) written();
  }
  close(code: number) {
    this.closedWith = code;
    this.readyState = 3;
  }
  terminate() {}
  ping() {}
}

/** A session after its join; `replayText`: one replayed message of that text. */
async function openSession(
  limit: number,
  options: { replayText?: string; written?: boolean } = {},
) {
  const socket = new BufferedSocket();
  // the defaults of config.ts; only the send buffer limit matters here
  const config: SessionConfig = {
    rateLimit: 20,
    historyReplay: 50,
    maxMessageChars: 4000,
    sendBufferLimit: limit,
    typingThrottleMs: 1000,
    closeGraceMs: 3000,
  };
  const presence = new RoomPresence();
  presence.add(1, 'me', 'g');
  const hub: RoomEntry = {
    enter: () => Promise.resolve(),
    exit: () => {},
    typing: () => {},
    presence,
  };
  const history = {
    replay: () =>
      Promise.resolve({
        messages:
          options.replayText === undefined
            ? []
            : [{ id: 1, server_id: 1, username: 'x', text: options.replayText, ts: '', seq: 1 }],
        updates: [],
        lastId: options.replayText === undefined ? 0 : 1,
        lastSeq: options.replayText === undefined ? 0 : 1,
        more: false,
        moreUpdates: false,
        reset: false,
      }),
  };
  const session = new ChatSession(
    socket,
    { serverId: 1, username: 'me', admin: false, since: undefined },
    {
      config,
      bus: {
        publish: () => Promise.reject(new Error('this test sends no message')),
        change: () => Promise.reject(new Error('this test changes no message')),
      },
      history,
      hub,
      metrics: createMetrics({
        rooms: () => Promise.resolve(1),
        historyLag: () => Promise.resolve(0),
      }),
      log: pino({ level: 'silent' }),
    },
  );
  await session.start();
  // the join's frames are written (the client read them) unless the test holds them back
  if (options.written !== false) socket.writeAll();
  socket.sent.length = 0;
  return { socket, session };
}

describe('a session’s send buffer', () => {
  it('drops typing frames once the buffer is past half the limit, but still sends messages', async () => {
    const { socket, session } = await openSession(1024);
    session.deliverEphemeral('typing-1');
    socket.bufferedAmount = 513;
    session.deliverEphemeral('typing-2');
    session.deliverChange(1, 'message-1');
    expect(socket.sent).toEqual(['typing-1', 'message-1']);
    expect(socket.closedWith).toBeUndefined();
  });

  it('closes with 4408 once the buffer is past the limit, and sends nothing more', async () => {
    const { socket, session } = await openSession(1024);
    socket.bufferedAmount = 1024;
    session.deliverChange(1, 'message-1');
    expect(socket.closedWith).toBeUndefined();
    socket.bufferedAmount = 1025;
    session.deliverChange(2, 'message-2');
    session.deliverChange(3, 'message-3');
    expect(socket.sent).toEqual(['message-1']);
    expect(socket.closedWith).toBe(4408);
  });

  it('never sends a message id twice or one at or below the replay', async () => {
    const { socket, session } = await openSession(1024);
    session.deliverChange(5, 'five');
    session.deliverChange(5, 'five again');
    session.deliverChange(4, 'four');
    session.deliverChange(6, 'six');
    expect(socket.sent).toEqual(['five', 'six']);
  });

  it('does not count the join’s history and presence until ws has written them', async () => {
    const { socket, session } = await openSession(1024, {
      replayText: 'h'.repeat(10_000),
      written: false,
    });
    // the 10 KB history frame waits in the buffer: ten times the limit, yet no close
    socket.bufferedAmount = 10_200;
    session.deliverChange(2, 'm'.repeat(600));
    session.deliverChange(3, 'm'.repeat(600));
    expect(socket.closedWith).toBeUndefined();
    // what was sent after the join counts: 1200 bytes queued behind it pass the limit
    session.deliverChange(4, 'm'.repeat(600));
    expect(socket.sent).toHaveLength(2);
    expect(socket.closedWith).toBe(4408);
  });

  it('counts the whole send buffer again once the join’s frames are written', async () => {
    const { socket, session } = await openSession(1024, {
      replayText: 'h'.repeat(10_000),
      written: false,
    });
    socket.bufferedAmount = 10_200;
    session.deliverEphemeral('typing-while-joining');
    socket.writeAll();
    socket.bufferedAmount = 1025;
    session.deliverEphemeral('typing-dropped');
    session.deliverChange(2, 'message-2');
    expect(socket.sent).toEqual(['typing-while-joining']);
    expect(socket.closedWith).toBe(4408);
  });
});
