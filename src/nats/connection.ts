import type { FastifyBaseLogger } from 'fastify';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';

/**
 * One NATS connection that reconnects forever, with backoff, and knows whether it is up. It is
 * made at once and connects in the background, so a gateway can answer `/healthz` (and `503`
 * elsewhere) while NATS is not there yet; `nc`, `js` and `jsm` exist once `connected` resolved.
 */
export interface NatsLink {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  /** Resolves at the first connection; rejects when none is made within the connect timeout. */
  readonly connected: Promise<void>;
  /** Starts connecting (once); the connect timeout counts from here. */
  connect(): Promise<void>;
  isConnected(): boolean;
  /** Calls `listener` after every reconnect (not after the first connection). */
  onReconnect(listener: () => void): void;
  close(): Promise<void>;
}

export interface NatsLinkOptions {
  /** How long the first connection may take before `connected` rejects; 0 waits forever. */
  connectTimeoutMs: number;
}

const FIRST_CONNECT_RETRY_MS = 1000;

/** No NATS server answered within the connect timeout at start. */
export class NatsUnreachableError extends Error {
  override name = 'NatsUnreachableError';
  constructor(
    readonly servers: string,
    readonly waitedMs: number,
    options: { cause: unknown },
  ) {
    const reason = options.cause instanceof Error ? options.cause.message : String(options.cause);
    super(
      `no NATS server answered at ${servers} within ${formatSeconds(waitedMs)} (last error: ${reason})`,
      options,
    );
  }
}

function formatSeconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}

interface Handles {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
}

/** Makes a link that connects in the background once `connect` is called. */
export function openNatsLink(
  servers: string,
  name: string,
  log: FastifyBaseLogger,
  options: NatsLinkOptions,
): NatsLink {
  let handles: Handles | undefined;
  let up = false;
  let closed = false;
  const reconnectListeners: Array<() => void> = [];
  const need = (): Handles => {
    if (!handles) throw new Error('NATS is not connected yet');
    return handles;
  };

  const watch = async (nc: NatsConnection) => {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect') {
        up = false;
        log.warn({ server: status.server }, 'NATS connection lost; reconnecting');
      } else if (status.type === 'reconnect') {
        up = true;
        log.info({ server: status.server }, 'NATS connection back');
        for (const listener of reconnectListeners) {
          try {
            listener();
          } catch (error) {
            log.error({ err: error }, 'a NATS reconnect listener failed');
          }
        }
      }
    }
  };

  const firstConnection = async () => {
    const started = Date.now();
    const limit = options.connectTimeoutMs;
    log.info(
      { servers, gives_up_after_ms: limit || 'never' },
      'waiting for a NATS server to answer',
    );
    for (;;) {
      try {
        const nc = await connect({
          servers: servers.split(',').map((s) => s.trim()),
          name,
          maxReconnectAttempts: -1,
          reconnectTimeWait: 1000,
          reconnectJitter: 500,
          pingInterval: 5000,
          maxPingOut: 2,
        });
        if (closed) {
          await nc.close();
          throw new Error('the NATS link was closed before it connected');
        }
        handles = { nc, js: jetstream(nc), jsm: await jetstreamManager(nc) };
        up = true;
        void watch(nc);
        log.info({ server: nc.getServer() }, 'connected to NATS');
        return;
      } catch (error) {
        if (closed) throw error;
        if (limit > 0 && Date.now() - started >= limit) {
          throw new NatsUnreachableError(servers, limit, { cause: error });
        }
        await new Promise((resolve) => setTimeout(resolve, FIRST_CONNECT_RETRY_MS));
      }
    }
  };
  let begin: () => void = () => undefined;
  const connected = new Promise<void>((resolve) => (begin = resolve)).then(firstConnection);
  // whoever awaits `connected` sees the failure; this keeps it from being unhandled meanwhile
  connected.catch(() => undefined);

  return {
    get nc() {
      return need().nc;
    },
    get js() {
      return need().js;
    },
    get jsm() {
      return need().jsm;
    },
    connected,
    connect() {
      begin();
      return connected;
    },
    isConnected: () => up && handles !== undefined && !handles.nc.isClosed(),
    onReconnect: (listener) => reconnectListeners.push(listener),
    async close() {
      closed = true;
      if (handles && !handles.nc.isClosed()) await handles.nc.drain();
    },
  };
}

/** Opens a link and waits for its first connection (waiting forever by default). */
export async function connectNats(
  servers: string,
  name: string,
  log: FastifyBaseLogger,
  options: NatsLinkOptions = { connectTimeoutMs: 0 },
): Promise<NatsLink> {
  const link = openNatsLink(servers, name, log, options);
  await link.connect();
  return link;
}
