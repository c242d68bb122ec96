import type { FastifyBaseLogger } from 'fastify';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';

/** One NATS connection that reconnects forever, with backoff, and knows whether it is up. */
export interface NatsLink {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  isConnected(): boolean;
  /** Calls `listener` after every reconnect. */
  onReconnect(listener: () => void): void;
  close(): Promise<void>;
}

export async function connectNats(
  servers: string,
  name: string,
  log: FastifyBaseLogger,
): Promise<NatsLink> {
  log.info({ servers }, 'connecting to NATS (waits until a server answers)');
  const nc = await connect({
    servers: servers.split(',').map((s) => s.trim()),
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 1000,
    reconnectJitter: 500,
    waitOnFirstConnect: true,
    pingInterval: 5000,
    maxPingOut: 2,
  });
  let connected = true;
  const reconnectListeners: Array<() => void> = [];
  void (async () => {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect') {
        connected = false;
        log.warn({ server: status.server }, 'NATS connection lost; reconnecting');
      } else if (status.type === 'reconnect') {
        connected = true;
        log.info({ server: status.server }, 'NATS connection back');
        for (const listener of reconnectListeners) listener();
      }
    }
  })();
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  return {
    nc,
    js,
    jsm,
    isConnected: () => connected && !nc.isClosed(),
    onReconnect: (listener) => reconnectListeners.push(listener),
    async close() {
      if (!nc.isClosed()) await nc.drain();
    },
  };
}
