import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import pino from 'pino';
import { EmbeddedBus } from './bus/embedded-bus.ts';
import { readerTriggersOf } from './domain/access-events.ts';
import { NatsAccountsClient } from './bus/nats/nats-accounts-client.ts';
import { NatsBus } from './bus/nats/nats-bus.ts';
import { NatsHistoryClient } from './bus/nats/nats-history-client.ts';
import { ConfigError } from './config.ts';
import type { Config } from './config.ts';
import { buildGateway } from './gateway/app.ts';
import type { Gateway } from './gateway/app.ts';
import type { AttachmentBlobs } from './domain/attachments.ts';
import { AccountsService } from './history/accounts-service.ts';
import { AttachmentsService } from './history/attachments-service.ts';
import { EmbeddedHistoryClient } from './history/embedded-history-client.ts';
import { HistoryService } from './history/history-service.ts';
import { NatsHistoryService } from './history/nats-history-service.ts';
import { ReadersService } from './history/readers-service.ts';
import { RoomsService } from './history/rooms-service.ts';
import { LocalStateLog } from './history/state-log.ts';
import { AttachmentObjects } from './nats/attachment-objects.ts';
import { NatsUnreachableError, openNatsLink } from './nats/connection.ts';
import { DataDirError } from './store/data-dir.ts';
import { SessionKeyError, loadOrCreateSessionKey } from './store/session-key.ts';

/** A running chat: what `main.ts` starts and stops, and what tests start on port 0. */
export interface RunningChat {
  /** One line saying the mode (and role), the URL and where data lives. */
  readonly startupLine: string;
  /** The gateway's URL; undefined for a history service alone. */
  readonly url: string | undefined;
  readonly gateway: Gateway | undefined;
  /** Stops accepting, closes WebSockets with 1001, persists what was accepted. */
  close(): Promise<void>;
}

/**
 * What may carry a secret is never logged: bodies' passwords and tokens, the `Authorization`
 * and `Cookie` headers, `Set-Cookie`, and `?access_token=` in a logged URL.
 */
const REDACTED = [
  'password',
  'current',
  'new',
  'token',
  '*.password',
  '*.current',
  '*.new',
  '*.token',
  'authorization',
  'cookie',
  '*.authorization',
  '*.cookie',
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
];

/** The URL as logged: an `access_token` query parameter's value is replaced. */
export function loggableUrl(url: string): string {
  return url.replace(/([?&]access_token=)[^&#]*/gi, '$1[redacted]');
}

export function createLogger(config: Config): FastifyBaseLogger {
  return pino({
    level: config.logLevel,
    redact: { paths: REDACTED, censor: '[redacted]' },
    serializers: {
      // Fastify's request serializer, with the URL cleaned
      req: (request: {
        method: string;
        url: string;
        host?: string;
        ip?: string;
        socket?: { remotePort?: number };
      }) => ({
        method: request.method,
        url: loggableUrl(request.url),
        host: request.host,
        remoteAddress: request.ip,
        remotePort: request.socket?.remotePort,
      }),
    },
  });
}

/** Embedded mode: gateway, in-process bus and history service in one process. */
export async function startEmbedded(
  config: Config,
  logger: FastifyBaseLogger,
): Promise<RunningChat> {
  const history = openHistory(config, logger);
  const bus = new EmbeddedBus(history, { dedupeWindowMs: config.dedupeWindowMs });
  // state changes are applied at once; their access changes reach the gateway through the bus
  const log = new LocalStateLog(history.accounts, {
    onChange: (update) => bus.deliverAccessChange(update),
    onApplied: (event) => bus.deliverReaderTriggers(readerTriggersOf(event)),
  });
  const rooms = new RoomsService(history.rooms, log.apply);
  const attachments = new AttachmentsService(
    history.attachments,
    history.rooms,
    log.apply,
    history.blobs,
    {
      unsentTtlMs: config.uploadUnsentTtlMs,
      warn: (detail, message) => logger.warn(detail, message),
    },
  );
  attachments.start();
  const readers = ReadersService.over(history, log.apply);
  // outside open mode: storage's accounts
  const accounts =
    config.auth === 'open' ? undefined : new AccountsService(history.accounts, { log: log.apply });
  let gateway: Gateway;
  try {
    gateway = await buildGateway({
      config,
      bus,
      history: new EmbeddedHistoryClient(history, rooms, attachments, readers),
      blobs: history.blobs,
      gatewayId: randomUUID(),
      logger,
      accounts,
      sessionSecret: accounts && sessionSecret(config),
    });
  } catch (error) {
    attachments.close();
    log.close();
    history.close();
    throw error;
  }
  const url = await listen(gateway, config);
  return {
    startupLine: `chatroom embedded mode: listening on ${url} (data in ${config.dataDir})`,
    url,
    gateway,
    async close() {
      await withTimeout(gateway.app.close(), config.shutdownTimeoutMs - 2000);
      await bus.close();
      attachments.close();
      log.close();
      history.close();
    },
  };
}

/** A DATA_DIR that cannot be used stops startup with one line (a ConfigError naming it). */
function openHistory(
  config: Config,
  logger: FastifyBaseLogger,
  blobs?: AttachmentBlobs,
): HistoryService {
  let history: HistoryService;
  try {
    history = new HistoryService(config.dataDir, {
      log: logger,
      editWindowMs: config.editWindowMs,
      dedupeWindowMs: config.dedupeWindowMs,
      ...(blobs && { blobs }),
    });
  } catch (error) {
    if (error instanceof DataDirError) throw new ConfigError('DATA_DIR', error.message);
    throw error;
  }
  for (const [serverId, lines] of history.recoverTranscripts()) {
    logger.warn({ serverId, lines }, 'transcript repaired from the database after a crash');
  }
  const duplicates = history.rooms.duplicateNames();
  if (duplicates.length > 0) {
    logger.warn(
      { rooms: duplicates.map(({ id, name }) => ({ id, name })) },
      'rooms made before the name rules whose names are now one with an older room’s: kept ' +
        'as they are; their name can no longer be given to a new room',
    );
  }
  return history;
}

/** SESSION_SECRET, or the key kept in DATA_DIR/session.key (made at the first start). */
function sessionSecret(config: Config): Buffer {
  if (config.sessionSecret) return config.sessionSecret;
  try {
    return loadOrCreateSessionKey(config.dataDir);
  } catch (error) {
    if (error instanceof SessionKeyError) {
      throw new ConfigError('SESSION_SECRET', `unset, and ${error.message}`);
    }
    throw error;
  }
}

async function listen(gateway: Gateway, config: Config): Promise<string> {
  const address = await gateway.app.listen({ port: config.port, host: config.host });
  return `http://localhost:${new URL(address).port}`;
}

export type NatsRole = 'all' | 'gateway' | 'history';

/**
 * NATS mode. `gateway`: a stateless gateway; `history`: the history service alone; `all`: both
 * in one process (what `npm start` runs when NATS_URL is set). A gateway listens before NATS
 * answers (`/healthz` 200, `/readyz` 503 meanwhile); the chat is running, and the startup line
 * printed, once NATS is connected (and, for `all`, the history service and the live feed run).
 * No NATS server within NATS_CONNECT_TIMEOUT: a ConfigError naming NATS_URL.
 */
export async function startNats(
  config: Config,
  role: NatsRole,
  logger: FastifyBaseLogger,
  say: (line: string) => void = console.log,
): Promise<RunningChat> {
  const natsUrl = config.natsUrl!;
  const what = { all: 'gateway + history service', gateway: 'gateway', history: 'history service' }[
    role
  ];
  const link = openNatsLink(natsUrl, `chatroom-${role}`, logger, {
    connectTimeoutMs: config.natsConnectTimeoutMs,
  });
  // attachment bytes: the Object Store, which gateways stream to and from
  const objects = new AttachmentObjects(link);
  const history = role === 'gateway' ? undefined : openHistory(config, logger, objects);
  let gateway: Gateway | undefined;
  let bus: NatsBus | undefined;
  let url: string | undefined;
  if (role !== 'history') {
    bus = new NatsBus(link, { publishTimeoutMs: config.natsRequestTimeoutMs }, logger);
    const withAccounts = config.auth !== 'open';
    gateway = await buildGateway({
      config,
      bus,
      history: new NatsHistoryClient(link, config.natsRequestTimeoutMs),
      blobs: objects,
      gatewayId: randomUUID(),
      logger,
      // the history service keeps the accounts; SESSION_SECRET is required (config.ts)
      accounts: withAccounts
        ? new NatsAccountsClient(link, config.natsRequestTimeoutMs)
        : undefined,
      sessionSecret: withAccounts ? config.sessionSecret : undefined,
    });
    url = await listen(gateway, config);
  }
  const limit = config.natsConnectTimeoutMs;
  say(
    `chatroom NATS mode, ${what}: waiting for NATS at ${natsUrl}` +
      (limit > 0 ? ` (gives up after ${limit / 1000} s)` : '') +
      (url ? `; ${url}/healthz answers, /readyz says 503 until then` : ''),
  );
  let historyService: NatsHistoryService | undefined;
  try {
    await link.connect();
    if (history) {
      historyService = new NatsHistoryService(
        history,
        link,
        {
          streamMaxAgeMs: config.streamMaxAgeMs,
          dedupeWindowMs: config.dedupeWindowMs,
          catchUpTimeoutMs: config.natsRequestTimeoutMs - 500,
          unsentTtlMs: config.uploadUnsentTtlMs,
        },
        logger,
      );
      await historyService.start();
    }
    // the stream exists now: a join right after the startup line finds the live feed running
    if (role === 'all') await bus?.started();
  } catch (error) {
    if (gateway) await gateway.app.close();
    await bus?.close();
    await link.close();
    history?.close();
    if (error instanceof NatsUnreachableError) throw new ConfigError('NATS_URL', error.message);
    throw error;
  }
  const where = role === 'gateway' ? 'no local data' : `data in ${config.dataDir}`;
  return {
    startupLine:
      `chatroom NATS mode, ${what}: ` +
      (url ? `listening on ${url}` : 'no HTTP') +
      ` (NATS ${natsUrl}, ${where})`,
    url,
    gateway,
    async close() {
      if (gateway) await withTimeout(gateway.app.close(), config.shutdownTimeoutMs - 3000);
      await bus?.close();
      await historyService?.close();
      await withTimeout(link.close(), 1500);
      history?.close();
    },
  };
}

/** Waits for `work`, but no longer than `ms`: shutdown has a deadline to keep. */
async function withTimeout(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    work,
    new Promise((resolve) => {
      timer = setTimeout(resolve, Math.max(ms, 0));
    }),
  ]);
  clearTimeout(timer);
}
