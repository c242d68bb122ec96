/**
 * The accounts' history operations over NATS (the AccountsClient port; see history-ops.ts, which
 * holds them with the rest): what each is asked and answers, and the checks of both. A password
 * travels only to the history service.
 */
import type { AccessSnapshot } from '../domain/access-events.ts';
import type {
  LoginRequest,
  NewToken,
  PasswordChange,
  RegisterRequest,
} from '../domain/account-requests.ts';
import type { Invite, RegistrationPolicy, TokenInfo, User } from '../domain/identity.ts';
import {
  arrayOf,
  isBoolean,
  isInteger,
  isRecord,
  isString,
  nullable,
  objectOf,
  optional,
} from './guards.ts';
import type { Guard } from './guards.ts';

/** The request of an operation that needs no arguments: `{}`. */
export type NoArguments = Record<string, never>;

export const noArguments = (value: unknown): value is NoArguments => isRecord(value);
export const isNull = (value: unknown): value is null => value === null;

export interface AccountOps {
  register: { request: RegisterRequest; reply: User };
  login: { request: LoginRequest; reply: User };
  change_password: { request: PasswordChange; reply: number };
  end_session: { request: { sid: string; until: number }; reply: null };
  create_token: { request: NewToken; reply: TokenInfo };
  list_tokens: { request: { username: string }; reply: TokenInfo[] };
  revoke_token: { request: { username: string; id: string }; reply: null };
  create_invite: { request: { by: string }; reply: Invite };
  revoke_invite: { request: { by: string; code: string }; reply: null };
  set_disabled: { request: { by: string; username: string; disabled: boolean }; reply: User };
  /** `null`: no such user. */
  user: { request: { username: string }; reply: User | null };
  record_user: { request: { username: string }; reply: null };
  /** The access state as of `position`, which is at least `after` (stream sequences). */
  access_snapshot: { request: { after: number }; reply: AccessSnapshot };
  has_users: { request: NoArguments; reply: boolean };
  // the operator commands, run beside a NATS-mode deployment (`chatroom admin …`)
  operator_invite: { request: NoArguments; reply: Invite };
  reset_password: { request: { username: string; password: string }; reply: User };
}

const isPolicy = (value: unknown): value is RegistrationPolicy =>
  value === 'invite' || value === 'open' || value === 'closed';

const isUser = objectOf<User>({
  username: isString,
  admin: isBoolean,
  disabled: isBoolean,
  created_at: isString,
});
const isInvite = objectOf<Invite>({ code: isString, expires_at: isString });
const isTokenInfo = objectOf<TokenInfo>({ id: isString, name: isString, created_at: isString });
const isSnapshot = objectOf<AccessSnapshot>({
  position: isInteger,
  ended_sessions: arrayOf(
    objectOf<{ sid: string; until: number }>({ sid: isString, until: isInteger }),
  ),
  resets: arrayOf(
    objectOf<{ username: string; at: number; keep_sid: string | null }>({
      username: isString,
      at: isInteger,
      keep_sid: nullable(isString),
    }),
  ),
  revoked_tokens: arrayOf(isString),
  disabled_users: arrayOf(isString),
  archived_rooms: arrayOf(isInteger),
});
const byUsername = objectOf<{ username: string }>({ username: isString });

export const ACCOUNT_CHECKS: {
  [Op in keyof AccountOps]: {
    request: Guard<AccountOps[Op]['request']>;
    reply: Guard<AccountOps[Op]['reply']>;
  };
} = {
  register: {
    request: objectOf<RegisterRequest>({
      username: isString,
      password: isString,
      invite: optional(isString),
      registration: isPolicy,
    }),
    reply: isUser,
  },
  login: {
    request: objectOf<LoginRequest>({ username: isString, password: isString, address: isString }),
    reply: isUser,
  },
  change_password: {
    request: objectOf<PasswordChange>({
      username: isString,
      current: isString,
      next: isString,
      keepSid: nullable(isString),
    }),
    reply: isInteger,
  },
  end_session: {
    request: objectOf<{ sid: string; until: number }>({ sid: isString, until: isInteger }),
    reply: isNull,
  },
  create_token: {
    request: objectOf<NewToken>({
      id: isString,
      username: isString,
      name: isString,
      tokenHash: isString,
      createdAt: isString,
    }),
    reply: isTokenInfo,
  },
  list_tokens: { request: byUsername, reply: arrayOf(isTokenInfo) },
  revoke_token: {
    request: objectOf<{ username: string; id: string }>({ username: isString, id: isString }),
    reply: isNull,
  },
  create_invite: { request: objectOf<{ by: string }>({ by: isString }), reply: isInvite },
  revoke_invite: {
    request: objectOf<{ by: string; code: string }>({ by: isString, code: isString }),
    reply: isNull,
  },
  set_disabled: {
    request: objectOf<{ by: string; username: string; disabled: boolean }>({
      by: isString,
      username: isString,
      disabled: isBoolean,
    }),
    reply: isUser,
  },
  user: { request: byUsername, reply: nullable(isUser) },
  record_user: { request: byUsername, reply: isNull },
  access_snapshot: {
    request: objectOf<{ after: number }>({ after: isInteger }),
    reply: isSnapshot,
  },
  has_users: { request: noArguments, reply: isBoolean },
  operator_invite: { request: noArguments, reply: isInvite },
  reset_password: {
    request: objectOf<{ username: string; password: string }>({
      username: isString,
      password: isString,
    }),
    reply: isUser,
  },
};
