import type { HistoryHandlers } from '../nats/history-ops.ts';
import type { ReaderOps } from '../nats/reader-ops.ts';
import type { ReadersService } from './readers-service.ts';

/**
 * The history service's answers to the reader operations: each is the ReadersService's (in NATS
 * mode a change is published to the stream and answered once applied); `readers` is a getter, as
 * the table is made before the service is. Counts and mentions a gateway asks for after a stream
 * sequence it saw wait until the store has applied the stream up to it (`caughtUp`), so that they
 * reflect the message or event that made the gateway ask.
 */
export function readerHandlers(
  readers: () => ReadersService,
  caughtUp: (seq: number) => Promise<void>,
): Pick<HistoryHandlers, keyof ReaderOps> {
  return {
    unread_state: async ({ username, enter, after }) => {
      await caughtUp(after);
      return readers().state(username, enter ?? undefined);
    },
    unread_counts: async ({ pairs, after }) => {
      await caughtUp(after);
      return readers().counts(pairs);
    },
    mark_read: ({ server_id, id, reader }) => readers().markRead(server_id, id, reader),
    move_markers: async ({ markers }) => {
      await readers().moveMarkers(markers);
      return null;
    },
    set_notify: ({ server_id, level, reader }) => readers().setNotify(server_id, level, reader),
    leave_room: async ({ server_id, reader }) => {
      await readers().leave(server_id, reader);
      return null;
    },
    mentions_of: async ({ messages, after }) => {
      await caughtUp(after);
      return readers().mentionsOf(messages);
    },
  };
}
