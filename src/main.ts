import { ConfigError, loadConfig } from './config.ts';
import type { Config } from './config.ts';
import { createLogger, startEmbedded, startNats } from './compose.ts';
import type { RunningChat } from './compose.ts';
import { watchProcessErrors } from './internal-errors.ts';
import type { FastifyBaseLogger } from 'fastify';

type Role = 'all' | 'gateway' | 'history';

function parseRole(arg: string | undefined): Role {
  if (arg === undefined) return 'all';
  if (arg === 'gateway' || arg === 'history') return arg;
  throw new Error(`unknown role "${arg}": expected "gateway" or "history"`);
}

async function start(config: Config, role: Role, logger: FastifyBaseLogger): Promise<RunningChat> {
  if (config.natsUrl === undefined) {
    if (role !== 'all') {
      throw new ConfigError(
        'NATS_URL',
        `"npm run ${role}" needs NATS_URL (e.g. nats://127.0.0.1:4222)`,
      );
    }
    return startEmbedded(config, logger);
  }
  return startNats(config, role, logger);
}

async function main(): Promise<void> {
  let config: Config;
  let role: Role;
  try {
    config = loadConfig();
    role = parseRole(process.argv[2]);
  } catch (error) {
    console.error(`chatroom: ${(error as Error).message}`);
    process.exit(2);
  }
  const logger = createLogger(config);
  // an error in a handler or timer is logged and counted, never fatal (see internal-errors.ts)
  watchProcessErrors(logger);
  let chat: RunningChat | undefined = undefined;
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`chatroom: ${signal} received, shutting down`);
    // still starting (e.g. waiting for NATS): nothing was accepted yet, so nothing to finish
    if (!chat) process.exit(0);
    const deadline = setTimeout(() => {
      console.error('chatroom: shutdown took too long; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    deadline.unref();
    chat.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error('chatroom: error while shutting down', error);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  chat = await start(config, role, logger);
  console.log(chat.startupLine);
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    console.error(`chatroom: ${error.message}`);
    process.exit(2);
  }
  console.error('chatroom: failed to start', error);
  process.exit(1);
});
