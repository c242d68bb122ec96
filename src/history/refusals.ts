import type { RoomRefusal } from '../domain/rooms.ts';
import { ChatError, UnavailableError } from '../errors.ts';
import type { AccountRefusal } from '../store/accounts-store.ts';

const REFUSALS: Record<AccountRefusal | RoomRefusal, () => ChatError> = {
  username_taken: () => new ChatError('username_taken'),
  invite_required: () => new ChatError('invite_required'),
  invalid_invite: () => new ChatError('invalid_invite'),
  registration_closed: () => new ChatError('registration_closed'),
  user_not_found: () => new ChatError('user_not_found'),
  token_not_found: () => new ChatError('not_found', 'No such token'),
  invite_not_found: () => new ChatError('not_found', 'No such invite'),
  room_not_found: () => new ChatError('room_not_found'),
  room_name_taken: () => new ChatError('room_name_taken'),
  not_a_member: () => new ChatError('user_not_found', 'That user is not a member of this room'),
  forbidden: () => new ChatError('forbidden'),
  public_room: () =>
    new ChatError(
      'bad_request',
      'A public room is open to every user: it has no members to add or remove',
    ),
  dm_with_oneself: () =>
    new ChatError('bad_request', 'A direct message needs another user than yourself'),
};

/** The API's error for a refused state event (the store's verdict). */
export function refusalError(refusal: AccountRefusal | RoomRefusal): ChatError {
  return REFUSALS[refusal]();
}

/** A synchronous store call; a storage fault (a full disk) is `unavailable`. */
export function fromStore<T>(work: () => T): T {
  try {
    return work();
  } catch (error) {
    if (error instanceof ChatError) throw error;
    throw new UnavailableError(undefined, { cause: error });
  }
}
