/**
 * Helpers for testing the page's connection (src/web/connection.js) under Node: a network of
 * real `ws` sockets the test can cut or make lose frames, and awaiting the connection's events.
 */
import { afterEach } from 'vitest';
import WebSocket from 'ws';
import { ChatConnection } from '../../src/web/connection.js';
import type { ConnectionEvents, ConnectionOptions } from '../../src/web/connection.js';
import { startTestChat } from './chat-server.ts';
import type { TestChat } from './chat-server.ts';
import { ChatClient } from './ws-client.ts';
import type { SocketConstructor } from '../../src/web/socket.js';

const DEFAULT_WAIT_MS = 5000;

export interface TestNetwork {
  /** What the connection is given as its WebSocket. */
  WebSocket: SocketConstructor;
  /** The URL of every socket opened, in order. */
  urls: string[];
  /** Cuts the newest socket as a network failure would (the client sees 1006). */
  cut(): void;
  /** Server frames of these types are lost on their way to the client while set. */
  lose: Set<string>;
}

export function testNetwork(): TestNetwork {
  const urls: string[] = [];
  const sockets: WebSocket[] = [];
  const lose = new Set<string>();

  /** A `ws` socket behind the small interface the connection uses. */
  class TestSocket {
    readonly #ws: WebSocket;
    constructor(url: string) {
      this.#ws = new WebSocket(url);
      urls.push(url);
      sockets.push(this.#ws);
    }
    get readyState(): number {
      return this.#ws.readyState;
    }
    send(data: string): void {
      this.#ws.send(data);
    }
    close(code?: number, reason?: string): void {
      this.#ws.close(code, reason);
    }
    // `never`: the connection passes a listener typed for the event it names.
    addEventListener(type: 'message' | 'close' | 'open' | 'error', listener: (e: never) => void) {
      const call = listener as (event: unknown) => void;
      if (type === 'message') {
        this.#ws.on('message', (data: WebSocket.RawData) => {
          // ws's default binaryType, nodebuffer: a Buffer, or the Buffers of a fragmented frame.
          const text = (Array.isArray(data) ? Buffer.concat(data) : (data as Buffer)).toString();
          if (lose.has((JSON.parse(text) as { type: string }).type)) return;
          call({ data: text });
        });
      } else if (type === 'close') {
        this.#ws.on('close', (code, reason) => call({ code, reason: reason.toString() }));
      } else {
        this.#ws.on(type, () => call(undefined));
      }
    }
  }

  return {
    WebSocket: TestSocket,
    urls,
    lose,
    cut() {
      sockets.at(-1)?.terminate();
    },
  };
}

/**
 * The next `type` event of the connection that matches, or a failed test after `waitMs`.
 * Listen before doing what causes the event.
 */
export function nextEvent<K extends keyof ConnectionEvents>(
  conn: ChatConnection,
  type: K,
  match: (value: ConnectionEvents[K]) => boolean = () => true,
  waitMs = DEFAULT_WAIT_MS,
): Promise<ConnectionEvents[K]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`no matching "${String(type)}" event in ${waitMs} ms`));
    }, waitMs);
    const stop = conn.on(type, (value) => {
      if (!match(value)) return;
      clearTimeout(timer);
      stop();
      resolve(value);
    });
  });
}

/** Every event of these types, in order, as [type, value]. */
export function recordEvents<K extends keyof ConnectionEvents>(
  conn: ChatConnection,
  types: K[],
): Array<[K, ConnectionEvents[K]]> {
  const events: Array<[K, ConnectionEvents[K]]> = [];
  for (const type of types) conn.on(type, (value) => events.push([type, structuredClone(value)]));
  return events;
}

/** Long enough that a test reconnects only when it says so (`retryNow`). */
export const NEVER_MS = 600_000;

export interface ConnectionTestbed {
  startChat: (env?: Record<string, string>) => Promise<TestChat>;
  connection: (
    chat: TestChat,
    network: TestNetwork,
    options?: Partial<ConnectionOptions>,
  ) => ChatConnection;
  /** Joins room 1 and waits until joined. */
  joined: (conn: ChatConnection, username: string) => Promise<void>;
  /** A plain WebSocket client in room 1 that sees every message. */
  observer: (chat: TestChat, username?: string) => Promise<ChatClient>;
}

/**
 * Chats, connections and plain clients made through it are closed after each test. Call it once
 * at the top of a test file (it registers an `afterEach`).
 */
export function connectionTestbed(): ConnectionTestbed {
  const chats: TestChat[] = [];
  const connections: ChatConnection[] = [];
  const clients: ChatClient[] = [];
  afterEach(async () => {
    for (const conn of connections.splice(0)) conn.leave();
    for (const client of clients.splice(0)) client.close();
    await Promise.all(chats.splice(0).map((chat) => chat.close()));
  });
  return {
    async startChat(env = {}) {
      const chat = await startTestChat(env);
      chats.push(chat);
      return chat;
    },
    connection(chat, network, options = {}) {
      const conn = new ChatConnection({ url: chat.url, WebSocket: network.WebSocket, ...options });
      connections.push(conn);
      return conn;
    },
    async joined(conn, username) {
      const connected = nextEvent(conn, 'state', ({ state }) => state === 'connected');
      conn.join(1, username);
      await connected;
    },
    async observer(chat, username = 'observer') {
      const { client } = await ChatClient.join(`${chat.wsUrl}/ws/1?username=${username}`);
      clients.push(client);
      return client;
    },
  };
}
