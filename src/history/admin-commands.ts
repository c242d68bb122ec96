/**
 * Operator commands, run where DATA_DIR lives (beside a running server or not):
 * `node dist/main.js admin invite` and `node dist/main.js admin reset-password USERNAME`
 * (`npm run admin -- …`). They write through the same access events as the server; a running
 * server reads the changes from the access feed within a second (a reset password's sessions and
 * WebSockets end then). In NATS mode (NATS_URL set) they ask the history service instead, which
 * publishes the change to the stream like any other: they may run anywhere NATS is reachable.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Invite, User } from '../domain/identity.ts';
import { ChatError } from '../errors.ts';
import { NatsUnreachableError } from '../nats/connection.ts';
import { DataDirError, openDataDir } from '../store/data-dir.ts';
import { AccountsService } from './accounts-service.ts';
import { LocalStateLog } from './state-log.ts';

/** What the commands need of storage. */
export interface OperatorAccounts {
  operatorInvite(): Promise<Invite>;
  resetPassword(username: string, password: string): Promise<User>;
  close(): Promise<void>;
}

export interface AdminContext {
  /** NATS mode: storage is the history service, reached over NATS; else DATA_DIR, here. */
  connect?: () => Promise<OperatorAccounts>;
  dataDir: string;
  /** The port the page is served on, for the invite link. */
  port: number;
  /** A password for reset-password (`--stdin`), read when asked for. */
  readPassword: () => Promise<string>;
  say: (line: string) => void;
}

export const ADMIN_USAGE = [
  'usage: chatroom admin <command>   (run where DATA_DIR is; in NATS mode, with NATS_URL)',
  '  invite                            print an invite code and link (valid 7 days)',
  '  reset-password USERNAME [--stdin] set a new password (generated and printed, or read',
  '                                    from stdin) and end every session and token of the user',
].join('\n');

export class AdminUsageError extends Error {
  override name = 'AdminUsageError';
}

/** Runs one command; throws AdminUsageError for bad arguments, ChatError for a refusal. */
export async function runAdminCommand(
  args: readonly string[],
  context: AdminContext,
): Promise<void> {
  const [command, ...rest] = args;
  if (command !== 'invite' && command !== 'reset-password') {
    throw new AdminUsageError(command ? `unknown command "${command}"` : 'no command given');
  }
  const accounts = context.connect ? await context.connect() : openLocal(context.dataDir);
  try {
    if (command === 'invite') {
      const invite = await accounts.operatorInvite();
      context.say(`invite code: ${invite.code} (valid until ${invite.expires_at})`);
      context.say(
        `link: http://localhost:${context.port}/?invite=${invite.code} ` +
          "(with your server's public address in place of localhost)",
      );
      return;
    }
    const [username, option, extra] = rest;
    if (!username || extra !== undefined || (option !== undefined && option !== '--stdin')) {
      throw new AdminUsageError('reset-password takes USERNAME and, optionally, --stdin');
    }
    const generated = option === undefined;
    const password = generated
      ? randomBytes(15).toString('base64url')
      : await context.readPassword();
    const user = await accounts.resetPassword(username, password);
    if (generated) context.say(`new password for ${user.username}: ${password}`);
    else context.say(`password of ${user.username} set`);
    context.say(`every session and token of ${user.username} has ended`);
  } finally {
    await accounts.close();
  }
}

/** Embedded mode: the accounts of the DATA_DIR, in this process. */
function openLocal(dataDir: string): OperatorAccounts {
  const database = path.join(dataDir, 'chatroom.db');
  if (!fs.existsSync(database)) {
    throw new AdminUsageError(
      `no chatroom.db in "${dataDir}": run this where the server's DATA_DIR is (or set DATA_DIR)`,
    );
  }
  const { store, transcripts } = openDataDir(dataDir);
  // the running server's own poll of the feed picks the changes up
  const log = new LocalStateLog(store.accounts, { feedPollMs: 0 });
  const accounts = new AccountsService(store.accounts, { log: log.apply });
  return {
    operatorInvite: () => accounts.createOperatorInvite(),
    resetPassword: (username, password) => accounts.resetPassword(username, password),
    close() {
      log.close();
      transcripts.close();
      store.close();
      return Promise.resolve();
    },
  };
}

/** The message of a refusal, for the command's one-line error. */
export function adminErrorMessage(error: unknown): string | undefined {
  if (error instanceof AdminUsageError) return `${error.message}\n${ADMIN_USAGE}`;
  if (error instanceof ChatError) return error.message;
  if (error instanceof DataDirError) return `DATA_DIR: ${error.message}`;
  if (error instanceof NatsUnreachableError) return `NATS_URL: ${error.message}`;
  return undefined;
}
