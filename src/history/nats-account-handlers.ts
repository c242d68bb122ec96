import type { HistoryHandlers } from '../nats/history-ops.ts';
import type { AccountsService } from './accounts-service.ts';

type AccountOp =
  | 'register'
  | 'login'
  | 'change_password'
  | 'end_session'
  | 'create_token'
  | 'list_tokens'
  | 'revoke_token'
  | 'create_invite'
  | 'revoke_invite'
  | 'set_disabled'
  | 'user'
  | 'record_user'
  | 'access_snapshot'
  | 'has_users'
  | 'operator_invite'
  | 'reset_password';

/**
 * The history service's answers to the account operations: each is the AccountsService's (in NATS
 * mode it publishes the change to the stream and answers once it is applied); `accounts` is a
 * getter, as the table is made before the service's accounts are. `caughtUp` waits
 * until the store has applied the stream up to a sequence, so that a snapshot reflects every
 * change the asking gateway's feed will not deliver.
 */
export function accountHandlers(
  accounts: () => AccountsService,
  caughtUp: (seq: number) => Promise<void>,
): Pick<HistoryHandlers, AccountOp> {
  return {
    register: (request) => accounts().register(request),
    login: (request) => accounts().login(request),
    change_password: (change) => accounts().changePassword(change),
    end_session: async ({ sid, until }) => {
      await accounts().endSession(sid, until);
      return null;
    },
    create_token: (token) => accounts().createToken(token),
    list_tokens: ({ username }) => accounts().listTokens(username),
    revoke_token: async ({ username, id }) => {
      await accounts().revokeToken(username, id);
      return null;
    },
    create_invite: ({ by }) => accounts().createInvite(by),
    revoke_invite: async ({ by, code }) => {
      await accounts().revokeInvite(by, code);
      return null;
    },
    set_disabled: ({ by, username, disabled }) => accounts().setDisabled(by, username, disabled),
    user: async ({ username }) => (await accounts().getUser(username)) ?? null,
    record_user: async ({ username }) => {
      await accounts().recordUser(username);
      return null;
    },
    access_snapshot: async ({ after }) => {
      await caughtUp(after);
      return accounts().accessSnapshot();
    },
    has_users: () => accounts().hasUsers(),
    operator_invite: () => accounts().createOperatorInvite(),
    reset_password: ({ username, password }) => accounts().resetPassword(username, password),
  };
}
