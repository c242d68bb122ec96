/**
 * Notification levels, per user per room (contract, "The page, added"): `all` (a `mention` frame
 * for every new message), `mentions` (the default: messages that mention the user or the room,
 * and DMs), `none` (the page shows no notifications; frames are still sent).
 */
export type NotifyLevel = 'all' | 'mentions' | 'none';
export const NOTIFY_LEVELS: readonly NotifyLevel[] = ['all', 'mentions', 'none'];
export const DEFAULT_NOTIFY: NotifyLevel = 'mentions';

export function isNotifyLevel(value: unknown): value is NotifyLevel {
  return value === 'all' || value === 'mentions' || value === 'none';
}
