import rateLimit, { normalizeIP } from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { nameKey } from '../domain/names.ts';
import { ChatError } from '../errors.ts';
import { userOf } from './auth/gate.ts';

/** A limit a request must pass: it throws `rate_limited` (429, with Retry-After) past it. */
export type RequestLimit = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

/**
 * Whom a request counts against: its user when the auth gate knows one (`user:` and the name's
 * key, so that no spelling of a name counts apart), else its client address (behind a trusted
 * proxy, the one from X-Forwarded-For; an IPv6 client by its /64, which one client usually holds
 * whole). Open mode has no users: there every request counts against its address.
 */
export function clientKey(request: FastifyRequest): string {
  const user = userOf(request);
  return user === undefined ? `address:${normalizeIP(request.ip)}` : `user:${nameKey(user)}`;
}

/** Registers @fastify/rate-limit for `minuteLimit`; it limits no route by itself. */
export async function registerRateLimits(app: FastifyInstance): Promise<void> {
  await app.register(rateLimit, { global: false });
}

/**
 * At most `max` requests a minute per `clientKey`, in fixed windows that start with a key's
 * first request (counted in this process: in NATS mode, per gateway). Undefined for `max` 0 (no
 * limit). `what` names the limit and its variable in the refusal.
 */
export function minuteLimit(
  app: FastifyInstance,
  max: number,
  what: string,
): RequestLimit | undefined {
  if (max === 0) return undefined;
  const count = app.createRateLimit({ max, timeWindow: 60_000, keyGenerator: clientKey });
  return async (request, reply) => {
    const result = await count(request);
    if (result.isAllowed || !result.isExceeded) return;
    const seconds = Math.max(1, result.ttlInSeconds);
    void reply.header('retry-after', String(seconds));
    throw new ChatError(
      'rate_limited',
      `Too many requests: ${what} allows ${max} a minute; retry in ${seconds} s`,
    );
  };
}
