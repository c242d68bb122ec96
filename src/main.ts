import { ConfigError, loadConfig, openModeWarning } from './config.ts';
import type { Config } from './config.ts';
import { createLogger, startEmbedded, startNats } from './compose.ts';
import type { RunningChat } from './compose.ts';
import pino from 'pino';
import { NatsAccountsClient } from './bus/nats/nats-accounts-client.ts';
import { adminErrorMessage, runAdminCommand } from './history/admin-commands.ts';
import type { OperatorAccounts } from './history/admin-commands.ts';
import { connectNats } from './nats/connection.ts';
import { watchProcessErrors } from './internal-errors.ts';
import type { FastifyBaseLogger } from 'fastify';

type Role = 'all' | 'gateway' | 'history';

function parseRole(arg: string | undefined): Role {
  if (arg === undefined) return 'all';
  if (arg === 'gateway' || arg === 'history') return arg;
  throw new Error(`unknown role "${arg}": expected "gateway", "history" or "admin"`);
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

/** The first line of stdin (for `admin reset-password USERNAME --stdin`). */
async function readLine(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) {
    text += String(chunk);
    if (text.includes('\n')) break;
  }
  return text.split(/\r?\n/)[0] ?? '';
}

/** `chatroom admin …`: the operator commands (see history/admin-commands.ts). */
async function admin(config: Config, args: string[]): Promise<void> {
  try {
    await runAdminCommand(args, {
      dataDir: config.dataDir,
      port: config.port,
      readPassword: readLine,
      say: (line) => console.log(line),
      ...(config.natsUrl !== undefined ? { connect: () => viaNats(config) } : {}),
    });
  } catch (error) {
    const message = adminErrorMessage(error);
    if (message === undefined) throw error;
    console.error(`chatroom admin: ${message}`);
    process.exit(2);
  }
  process.exit(0);
}

/** NATS mode's operator commands: the history service does them, over NATS. */
async function viaNats(config: Config): Promise<OperatorAccounts> {
  const link = await connectNats(config.natsUrl!, 'chatroom-admin', pino({ level: 'silent' }), {
    connectTimeoutMs: config.natsConnectTimeoutMs,
  });
  const client = new NatsAccountsClient(link, config.natsRequestTimeoutMs);
  return {
    operatorInvite: () => client.operatorInvite(),
    resetPassword: (username, password) => client.resetPassword(username, password),
    close: () => link.close(),
  };
}

async function main(): Promise<void> {
  let config: Config;
  let role: Role | 'admin';
  try {
    config = loadConfig();
    role = process.argv[2] === 'admin' ? 'admin' : parseRole(process.argv[2]);
  } catch (error) {
    console.error(`chatroom: ${(error as Error).message}`);
    process.exit(2);
  }
  if (role === 'admin') return admin(config, process.argv.slice(3));
  const warning = openModeWarning(config);
  if (warning && role !== 'history') console.warn(`chatroom: warning: ${warning}`);
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
