import { normalizeRoomName } from '../../src/domain/names.ts';
import type { Room } from '../../src/domain/rooms.ts';
import { ChatError } from '../../src/errors.ts';
import type { HistoryService } from '../../src/history/history-service.ts';
import { refusalError } from '../../src/history/refusals.ts';

/**
 * Makes a public room in a history service's store at once, as its one `room_created` event
 * (what RoomsService does through the log), so that store tests stay synchronous.
 */
export function createRoomIn(history: HistoryService, requested: string): Room {
  const name = normalizeRoomName(requested);
  if (name === undefined) throw new ChatError('invalid_room_name');
  const result = history.accounts.apply({
    type: 'room_created',
    name,
    private: false,
    owner: null,
    by_admin: false,
    created_at: new Date().toISOString(),
  });
  if (!result.ok) throw refusalError(result.refusal);
  return result.room as Room;
}

/** Every public room that is not archived, by id. */
export function publicRooms(history: HistoryService): Room[] {
  return history.rooms.list(undefined, false);
}
