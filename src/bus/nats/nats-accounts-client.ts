import type { AccessSnapshot } from '../../domain/access-events.ts';
import type { Invite, TokenInfo, User } from '../../domain/identity.ts';
import type { NatsLink } from '../../nats/connection.ts';
import type { HistoryOp, HistoryReply, HistoryRequest } from '../../nats/history-ops.ts';
import type {
  AccountsClient,
  LoginRequest,
  NewToken,
  PasswordChange,
  RegisterRequest,
} from '../types.ts';
import { askHistory } from './ask-history.ts';

/**
 * A gateway's accounts in NATS mode: each call is a request to the history service, which
 * checks it against its store, hashes or verifies the password there, and publishes the change
 * to the stream (see NatsHistoryService). A password is in the request to the history service
 * and nowhere else: not in the stream, not in any answer.
 */
export class NatsAccountsClient implements AccountsClient {
  constructor(
    private readonly link: NatsLink,
    private readonly timeoutMs: number,
  ) {}

  register(request: RegisterRequest): Promise<User> {
    return this.call('register', request);
  }

  login(request: LoginRequest): Promise<User> {
    return this.call('login', request);
  }

  changePassword(change: PasswordChange): Promise<number> {
    return this.call('change_password', change);
  }

  async endSession(sid: string, until: number): Promise<void> {
    await this.call('end_session', { sid, until });
  }

  createToken(token: NewToken): Promise<TokenInfo> {
    return this.call('create_token', token);
  }

  listTokens(username: string): Promise<TokenInfo[]> {
    return this.call('list_tokens', { username });
  }

  async revokeToken(username: string, id: string): Promise<void> {
    await this.call('revoke_token', { username, id });
  }

  createInvite(by: string): Promise<Invite> {
    return this.call('create_invite', { by });
  }

  async revokeInvite(by: string, code: string): Promise<void> {
    await this.call('revoke_invite', { by, code });
  }

  setDisabled(by: string, username: string, disabled: boolean): Promise<User> {
    return this.call('set_disabled', { by, username, disabled });
  }

  async getUser(username: string): Promise<User | undefined> {
    return (await this.call('user', { username })) ?? undefined;
  }

  async recordUser(username: string): Promise<void> {
    await this.call('record_user', { username });
  }

  accessSnapshot(after = 0): Promise<AccessSnapshot> {
    return this.call('access_snapshot', { after });
  }

  hasUsers(): Promise<boolean> {
    return this.call('has_users', {});
  }

  /** The operator command's invite (`chatroom admin invite` in NATS mode). */
  operatorInvite(): Promise<Invite> {
    return this.call('operator_invite', {});
  }

  /** The operator's reset (`chatroom admin reset-password` in NATS mode). */
  resetPassword(username: string, password: string): Promise<User> {
    return this.call('reset_password', { username, password });
  }

  private call<Op extends HistoryOp>(
    op: Op,
    request: HistoryRequest<Op>,
  ): Promise<HistoryReply<Op>> {
    return askHistory(this.link, this.timeoutMs, op, request);
  }
}
