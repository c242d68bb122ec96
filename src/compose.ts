import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import pino from 'pino';
import { EmbeddedBus } from './bus/embedded-bus.ts';
import type { Config } from './config.ts';
import { buildGateway } from './gateway/app.ts';
import type { Gateway } from './gateway/app.ts';
import { EmbeddedHistoryClient } from './history/embedded-history-client.ts';
import { HistoryService } from './history/history-service.ts';

/** A running chat: what `main.ts` starts and stops, and what tests start on port 0. */
export interface RunningChat {
  readonly mode: 'embedded' | 'nats';
  readonly url: string;
  readonly gateway: Gateway;
  /** Stops accepting, closes WebSockets with 1001, persists what was accepted. */
  close(): Promise<void>;
}

export function createLogger(config: Config): FastifyBaseLogger {
  return pino({ level: config.logLevel });
}

/** Embedded mode: gateway, in-process bus and history service in one process. */
export async function startEmbedded(
  config: Config,
  logger: FastifyBaseLogger,
): Promise<RunningChat> {
  const history = new HistoryService(config.dataDir);
  const repaired = history.recoverTranscripts();
  for (const [serverId, lines] of repaired) {
    logger.warn({ serverId, lines }, 'transcript repaired from the database after a crash');
  }
  const bus = new EmbeddedBus(history, { dedupeWindowMs: config.dedupeWindowMs });
  const gateway = await buildGateway({
    config,
    bus,
    history: new EmbeddedHistoryClient(history),
    gatewayId: randomUUID(),
    logger,
  });
  const address = await gateway.app.listen({ port: config.port, host: config.host });
  const port = new URL(address).port;
  return {
    mode: 'embedded',
    url: `http://localhost:${port}`,
    gateway,
    async close() {
      await withTimeout(gateway.app.close(), config.shutdownTimeoutMs - 2000);
      await bus.close();
      history.close();
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
