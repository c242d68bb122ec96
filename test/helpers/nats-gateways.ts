import { randomUUID } from 'node:crypto';
import type { ApiClient } from './accounts.ts';
import { spawnChat, tempDir } from './chat-server.ts';
import type { ChatProcess } from './chat-server.ts';
import { eventually } from './eventually.ts';
import { registeredOn as registered } from './nats-chat.ts';
import { TestNatsServer } from './nats-server.ts';
import type { ChatClient } from './ws-client.ts';

/**
 * NATS mode as the contract runs it: a nats-server of the test's own, one history service and
 * two gateways, processes sharing nothing but NATS_URL (accounts mode, open registration, no
 * rate limits). `restartHistory` kills the history service and starts one on an empty DATA_DIR.
 */
export class TwoGateways {
  historyDir = tempDir();
  history!: ChatProcess;
  gatewayA!: ChatProcess;
  gatewayB!: ChatProcess;
  private readonly secret = randomUUID() + randomUUID();
  private readonly sockets: ChatClient[] = [];

  private constructor(readonly nats: TestNatsServer) {}

  /** Starts it all, with the first account (`root`, the admin) registered. */
  static async start(): Promise<TwoGateways> {
    const cluster = new TwoGateways(await TestNatsServer.start());
    cluster.history = await spawnChat(cluster.env(cluster.historyDir), ['history']);
    [cluster.gatewayA, cluster.gatewayB] = await Promise.all([
      spawnChat(cluster.env(tempDir()), ['gateway']),
      spawnChat(cluster.env(tempDir()), ['gateway']),
    ]);
    await cluster.ready();
    await registered(cluster.gatewayA, 'root');
    return cluster;
  }

  /** A WebSocket of the client's to the room, joined (closed by `stop`). */
  async joined(client: ApiClient, room: number): Promise<ChatClient> {
    const { client: socket } = await client.join(room);
    this.sockets.push(socket);
    return socket;
  }

  env(dataDir: string): Record<string, string> {
    return {
      NATS_URL: this.nats.url,
      DATA_DIR: dataDir,
      AUTH: 'accounts',
      REGISTRATION: 'open',
      SESSION_SECRET: this.secret,
      RATE_LIMIT: '0',
      REST_RATE_LIMIT: '0',
      ROOM_CREATE_LIMIT: '0',
      NATS_REQUEST_TIMEOUT: '3s',
    };
  }

  /** Both gateways answer `/readyz` with 200. */
  async ready(): Promise<void> {
    await eventually(
      () =>
        Promise.all(
          [this.gatewayA, this.gatewayB].map(async (g) => (await fetch(`${g.url}/readyz`)).status),
        ),
      (statuses) => statuses.every((status) => status === 200),
    );
  }

  /** Kills the history service and starts another on an empty DATA_DIR. */
  async restartHistory(): Promise<void> {
    this.history.child.kill('SIGKILL');
    await this.history.exited;
    this.historyDir = tempDir();
    this.history = await spawnChat(this.env(this.historyDir), ['history']);
    await this.ready();
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.close();
    for (const process of [this.gatewayA, this.gatewayB, this.history]) {
      await process?.stop('SIGKILL');
    }
    await this.nats.stop();
  }
}

/** The same session on another gateway; a new account registered through a gateway. */
export { onGateway as on, registeredOn as registered } from './nats-chat.ts';
