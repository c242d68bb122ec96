import type { Room } from '../../src/domain/rooms.ts';
import type { ServerFrame } from '../../src/protocol.ts';
import type { ApiClient } from './accounts.ts';
import type { ChatClient } from './ws-client.ts';

export type UnreadFrame = Extract<ServerFrame, { type: 'unread' }>;
export type MentionFrame = Extract<ServerFrame, { type: 'mention' }>;

/** The next `unread` frame of the room that matches. */
export function unreadOf(
  socket: ChatClient,
  roomId: number,
  match: (frame: UnreadFrame) => boolean,
  ms = 5000,
): Promise<UnreadFrame> {
  return socket.until(
    (f) => f.type === 'unread' && f.server_id === roomId && match(f),
    ms,
    `an unread frame of room ${roomId}`,
  ) as Promise<UnreadFrame>;
}

/** The room as `GET /api/servers` lists it to this client (with their counts). */
export async function listed(client: ApiClient, roomId: number): Promise<Room> {
  const rooms = (await client.get('/api/servers')).body as unknown as Room[];
  const room = rooms.find((r) => r.id === roomId);
  if (!room) throw new Error(`room ${roomId} not listed`);
  return room;
}
