import type { RawData } from 'ws';
import { PRESENCE_PAGE_LIMIT } from '../../domain/presence.ts';
import type { RoomPresence } from '../../domain/presence.ts';
import { serialize } from '../../protocol.ts';

/** Who is in the room: the first PRESENCE_PAGE_LIMIT names, the total, and whether there are more. */
export function presenceFrame(
  presence: Pick<RoomPresence, 'page' | 'size'>,
  serverId: number,
): string {
  const users = presence.page(serverId, undefined, PRESENCE_PAGE_LIMIT);
  const total = presence.size(serverId);
  return serialize({
    type: 'presence',
    users,
    total,
    ...(total > users.length ? { more: true as const } : {}),
  });
}

/** ws hands text frames over as a Buffer, fragmented ones as Buffer[]. */
export function textOf(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  return Buffer.from(new Uint8Array(data)).toString('utf8');
}
