import { randomBytes } from 'node:crypto';
import type {
  AccountsClient,
  LoginRequest,
  NewToken,
  PasswordChange,
  RegisterRequest,
} from '../bus/types.ts';
import type { AccessSnapshot, AccountEvent } from '../domain/access-events.ts';
import { INVITE_LIFETIME_MS, passwordProblem } from '../domain/identity.ts';
import type { Invite, TokenInfo, User } from '../domain/identity.ts';
import { FailureWindow } from '../domain/login-limits.ts';
import { nameKey, normalizeUsername } from '../domain/names.ts';
import { ChatError, RateLimitedError, UnavailableError } from '../errors.ts';
import type { AccountsStore, StoredUser } from '../store/accounts-store.ts';
import { hashPassword, prepareDummy, verifyDummy, verifyPassword } from './passwords.ts';
import { refusalError } from './refusals.ts';
import type { StateEventLog } from './state-log.ts';
import { applyEvent } from './storage-call.ts';

export interface AccountsServiceOptions {
  /** Where changes go: the store at once (LocalStateLog) or the stream (NATS mode). */
  log: StateEventLog;
  /** NATS mode: the stream position the store reflects, for snapshots; default: the feed's. */
  position?: () => number;
  now?: () => number;
}

/** The contract's login limits: failures within 15 minutes per username and per address. */
export const LOGIN_LIMITS = { perUsername: 10, perAddress: 50, windowMs: 15 * 60_000 } as const;

/**
 * The storage side of accounts: checks a request against the stored state, hashes and verifies
 * passwords (scrypt, off the event loop), counts failed logins, and turns every change into one
 * access event: applied by the store at once (embedded mode, where the gateway calls it
 * in-process), or published to the stream and applied in stream order (NATS mode, where the
 * history service runs it and gateways reach it over NATS through the same AccountsClient port).
 */
export class AccountsService implements AccountsClient {
  private readonly byUsername = new FailureWindow(LOGIN_LIMITS.perUsername, LOGIN_LIMITS.windowMs);
  private readonly byAddress = new FailureWindow(LOGIN_LIMITS.perAddress, LOGIN_LIMITS.windowMs);
  private readonly now: () => number;
  private readonly log: StateEventLog;
  private readonly streamPosition: (() => number) | undefined;

  constructor(
    private readonly store: AccountsStore,
    options: AccountsServiceOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.log = options.log;
    this.streamPosition = options.position;
    // the first sign-in of an unknown name must not take twice as long as the others
    void prepareDummy();
  }

  async register(request: RegisterRequest): Promise<User> {
    const username = normalizeUsername(request.username);
    if (username === undefined) throw new ChatError('invalid_username');
    this.checkNewPassword(request.password);
    const event = {
      type: 'user_registered',
      username,
      password_hash: '',
      created_at: new Date(this.now()).toISOString(),
      // an empty invite field is no invite
      invite: request.invite || null,
      registration: request.registration,
    } as const;
    // refused before hashing too, so that a refused request costs no scrypt
    const early = this.store.registrationRefusal(event);
    if (early) throw refusalError(early);
    const passwordHash = await hashPassword(request.password);
    await this.apply({ ...event, password_hash: passwordHash });
    return this.existing(username);
  }

  async login(request: LoginRequest): Promise<User> {
    const name = normalizeUsername(request.username);
    const key = nameKey(name ?? request.username);
    const now = this.now();
    const waitMs = Math.max(
      this.byUsername.retryAfterMs(key, now),
      this.byAddress.retryAfterMs(request.address, now),
    );
    if (waitMs > 0) {
      throw new RateLimitedError(
        Math.ceil(waitMs / 1000),
        'Too many failed sign-ins; try again later',
      );
    }
    // counted before the check, so that parallel guesses cannot slip past the limit
    this.byUsername.fail(key, now);
    this.byAddress.fail(request.address, now);
    const user = name === undefined ? undefined : this.read(() => this.store.user(name));
    const hash = user?.password_hash;
    const right = hash
      ? await verifyPassword(request.password, hash)
      : await verifyDummy(request.password);
    if (!user || !right) throw new ChatError('invalid_credentials');
    this.byUsername.clear(key);
    this.byAddress.forgive(request.address, now);
    if (user.disabled) throw new ChatError('user_disabled');
    return publicUser(user);
  }

  async changePassword(change: PasswordChange): Promise<number> {
    const user = this.existing(change.username, true);
    const right = user.password_hash
      ? await verifyPassword(change.current, user.password_hash)
      : false;
    if (!right) {
      throw new ChatError('invalid_credentials', 'The current password is wrong', { status: 403 });
    }
    this.checkNewPassword(change.next);
    return this.setPassword(user.username, change.next, change.keepSid);
  }

  /** The operator's reset: every session and token of the user ends. */
  async resetPassword(username: string, password: string): Promise<User> {
    const user = this.existing(username, true);
    this.checkNewPassword(password);
    await this.setPassword(user.username, password, null);
    return publicUser(user);
  }

  endSession(sid: string, until: number): Promise<void> {
    return this.apply({ type: 'session_ended', sid, at: this.now(), until });
  }

  async createToken(token: NewToken): Promise<TokenInfo> {
    await this.apply({
      type: 'token_created',
      id: token.id,
      username: token.username,
      name: token.name,
      token_hash: token.tokenHash,
      created_at: token.createdAt,
    });
    return { id: token.id, name: token.name, created_at: token.createdAt };
  }

  listTokens(username: string): Promise<TokenInfo[]> {
    return this.call(() => this.store.tokens(username));
  }

  /**
   * Checked here first (in NATS mode before the event is published): a gateway derives the
   * revocation from the event itself, so only a token of this user may be named in one.
   */
  async revokeToken(username: string, id: string): Promise<void> {
    if (this.read(() => this.store.tokenOwner(id)) !== username)
      throw refusalError('token_not_found');
    await this.apply({ type: 'token_revoked', id, username, at: this.now() });
  }

  createInvite(by: string): Promise<Invite> {
    return this.call(() => this.admin(by).username).then((admin) => this.makeInvite(admin));
  }

  /** The operator command's invite (no user made it). */
  createOperatorInvite(): Promise<Invite> {
    return this.makeInvite(null);
  }

  async revokeInvite(by: string, code: string): Promise<void> {
    this.admin(by);
    await this.apply({ type: 'invite_revoked', code, at: this.now() });
  }

  async setDisabled(by: string, username: string, disabled: boolean): Promise<User> {
    const admin = this.admin(by);
    const user = this.existing(username);
    if (user.username === admin.username) {
      throw new ChatError('forbidden', 'An admin cannot disable their own account');
    }
    await this.apply({ type: 'user_disabled', username: user.username, disabled, at: this.now() });
    return this.existing(user.username);
  }

  getUser(username: string): Promise<User | undefined> {
    return this.call(() => {
      const user = this.store.user(username);
      return user && publicUser(user);
    });
  }

  async recordUser(username: string): Promise<void> {
    // NATS mode: a user already known needs no event in the stream
    if (this.streamPosition && this.read(() => this.store.user(username))) return;
    await this.apply({
      type: 'user_seen',
      username,
      created_at: new Date(this.now()).toISOString(),
    });
  }

  /** The state now (NATS mode: the caller first waits until the stream is applied to `after`). */
  accessSnapshot(): Promise<AccessSnapshot> {
    return this.call(() => {
      const snapshot = this.store.snapshot(this.now());
      return this.streamPosition ? { ...snapshot, position: this.streamPosition() } : snapshot;
    });
  }

  hasUsers(): Promise<boolean> {
    return this.call(() => this.store.userCount() > 0);
  }

  private async setPassword(
    username: string,
    password: string,
    keepSid: string | null,
  ): Promise<number> {
    const passwordHash = await hashPassword(password);
    const at = this.now();
    await this.apply({
      type: 'password_changed',
      username,
      password_hash: passwordHash,
      at,
      keep_sid: keepSid,
    });
    return at;
  }

  private async makeInvite(by: string | null): Promise<Invite> {
    const now = this.now();
    const code = randomBytes(16).toString('base64url');
    const expiresAt = new Date(now + INVITE_LIFETIME_MS).toISOString();
    await this.apply({
      type: 'invite_created',
      code,
      created_by: by,
      created_at: new Date(now).toISOString(),
      expires_at: expiresAt,
    });
    return { code, expires_at: expiresAt };
  }

  private checkNewPassword(password: string): void {
    const problem = passwordProblem(password);
    if (problem === 'weak') throw new ChatError('weak_password');
    if (problem === 'malformed') {
      throw new ChatError('bad_request', 'the password holds a lone surrogate (not Unicode)');
    }
  }

  /** Hands an event to the log; a refusal becomes its ChatError, a fault `unavailable`. */
  private apply(event: AccountEvent): Promise<void> {
    return applyEvent(this.log, event);
  }

  private existing(username: string, withHash?: false): User;
  private existing(username: string, withHash: true): StoredUser;
  private existing(username: string, withHash = false): User | StoredUser {
    const user = this.read(() => this.store.user(username));
    if (!user) throw new ChatError('user_not_found', `No user named "${username}"`);
    return withHash ? user : publicUser(user);
  }

  private admin(username: string): User {
    const user = this.read(() => this.store.user(username));
    if (!user?.admin || user.disabled) {
      throw new ChatError('forbidden', 'Only an admin may do that');
    }
    return publicUser(user);
  }

  /** A synchronous store call; a storage fault (a full disk) is `unavailable`. */
  private read<T>(work: () => T): T {
    try {
      return work();
    } catch (error) {
      if (error instanceof ChatError) throw error;
      throw new UnavailableError(undefined, { cause: error });
    }
  }

  /** `read`, its error as the promise's rejection. */
  private call<T>(work: () => T): Promise<T> {
    return Promise.resolve().then(() => this.read(work));
  }
}

function publicUser(user: User): User {
  return {
    username: user.username,
    admin: user.admin,
    disabled: user.disabled,
    created_at: user.created_at,
  };
}
