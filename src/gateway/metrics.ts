import client from 'prom-client';
import { internalErrors } from '../internal-errors.ts';

export interface GatewayMetrics {
  readonly registry: client.Registry;
  readonly connections: client.Gauge;
  readonly messagesIn: client.Counter;
  readonly messagesOut: client.Counter;
  readonly errors: client.Counter<'code'>;
  readonly slowClosed: client.Counter;
  /** Requests for unread counts to storage, and the (user, room) pairs they counted. */
  readonly unreadRequests: client.Counter;
  readonly unreadPairs: client.Counter;
}

export interface MetricSources {
  /** How many rooms there are: a count, never the list (a scrape must stay cheap). */
  rooms: () => Promise<number>;
  historyLag: () => Promise<number>;
}

/** One registry per app, so that several apps in one process (tests) keep their own numbers. */
export function createMetrics(sources: MetricSources): GatewayMetrics {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  registry.registerMetric(internalErrors);
  const metrics: GatewayMetrics = {
    registry,
    connections: new client.Gauge({
      name: 'chatroom_connections',
      help: 'Open WebSocket connections on this gateway',
      registers: [registry],
    }),
    messagesIn: new client.Counter({
      name: 'chatroom_messages_in_total',
      help: 'Messages accepted from clients of this gateway (durable, not counting duplicates)',
      registers: [registry],
    }),
    messagesOut: new client.Counter({
      name: 'chatroom_messages_out_total',
      help: 'Message frames sent to clients of this gateway (one per recipient)',
      registers: [registry],
    }),
    errors: new client.Counter({
      name: 'chatroom_errors_total',
      help: 'Errors reported to clients, by code (error frames, REST errors, close codes)',
      labelNames: ['code'] as const,
      registers: [registry],
    }),
    slowClosed: new client.Counter({
      name: 'chatroom_slow_clients_closed_total',
      help: 'Connections closed with 4408 because their send buffer passed the limit',
      registers: [registry],
    }),
    unreadRequests: new client.Counter({
      name: 'chatroom_unread_requests_total',
      help: 'Requests this gateway made to storage for unread counts (each for many users)',
      registers: [registry],
    }),
    unreadPairs: new client.Counter({
      name: 'chatroom_unread_pairs_total',
      help: 'Counts of one user in one room that this gateway asked storage for',
      registers: [registry],
    }),
  };
  new client.Gauge({
    name: 'chatroom_rooms',
    help: 'Rooms in the chat',
    registers: [registry],
    async collect() {
      this.set(await sources.rooms().catch(() => 0));
    },
  });
  new client.Gauge({
    name: 'chatroom_history_lag_messages',
    help: 'Messages accepted but not yet persisted by the history service',
    registers: [registry],
    async collect() {
      this.set(await sources.historyLag().catch(() => 0));
    },
  });
  return metrics;
}
