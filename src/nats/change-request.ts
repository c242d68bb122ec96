/** The check of an edit, delete or reaction as it arrives over NATS (request and stream). */
import type { ChangeRequest } from '../domain/changes.ts';
import { isBoolean, isInteger, isRecord, isString, optional } from './guards.ts';
import type { Guard } from './guards.ts';

const isOptionalString = optional(isString);
export const isChangeRequest: Guard<ChangeRequest> = (value): value is ChangeRequest => {
  if (!isRecord(value)) return false;
  const common =
    isInteger(value.serverId) &&
    isInteger(value.id) &&
    isString(value.username) &&
    isOptionalString(value.clientId);
  if (!common) return false;
  switch (value.kind) {
    case 'edit':
      return isString(value.text);
    case 'delete':
      return isBoolean(value.admin);
    case 'react':
      return isString(value.emoji) && isBoolean(value.on);
    default:
      return false;
  }
};
