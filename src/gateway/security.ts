import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Config } from '../config.ts';
import { ChatError } from '../errors.ts';
import { OriginPolicy } from './origin.ts';
import { minuteLimit, registerRateLimits } from './rate-limits.ts';
import type { RequestLimit } from './rate-limits.ts';
import { registerSecurityHeaders } from './security-headers.ts';

/** What the routes need from the gateway's protections. */
export interface Security {
  /** Whose browser pages may open a WebSocket (and, below, change state). */
  origins: OriginPolicy;
  /** ROOM_CREATE_LIMIT, for `POST /api/servers`; undefined when it is off. */
  limitRoomCreation: RequestLimit | undefined;
}

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** A request to the API: by its route (`/%61pi/servers` routes to `/api/servers`), else its URL. */
function isApiRequest(request: FastifyRequest): boolean {
  return (request.routeOptions.url ?? request.url).startsWith('/api/');
}

/**
 * Every request, before its route: the safety headers, then (for `/api/`) REST_RATE_LIMIT, then
 * the refusal of state changes from foreign origins. Register before any route.
 */
export async function registerSecurity(app: FastifyInstance, config: Config): Promise<Security> {
  await registerSecurityHeaders(app);
  await registerRateLimits(app);
  const origins = new OriginPolicy(config.allowedOrigins, app.log);

  const limitRest = minuteLimit(app, config.restRateLimit, 'REST_RATE_LIMIT');
  if (limitRest) {
    app.addHook('onRequest', async (request, reply) => {
      if (isApiRequest(request)) await limitRest(request, reply);
    });
  }

  // CSRF. The contract refuses cross-origin state changes that carry the session cookie; before
  // sessions exist every cross-origin one is refused (no API client of another site's page is
  // meant to change state here). With sessions, add the cookie to this condition.
  app.addHook('onRequest', (request, _reply, done) => {
    if (STATE_CHANGING.has(request.method) && isApiRequest(request) && !origins.allows(request)) {
      done(
        new ChatError(
          'origin_not_allowed',
          `Requests that change state are not accepted from ${request.headers.origin} ` +
            '(only from the gateway’s own pages and ALLOWED_ORIGINS)',
        ),
      );
      return;
    }
    done();
  });

  return {
    origins,
    limitRoomCreation: minuteLimit(app, config.roomCreateLimit, 'ROOM_CREATE_LIMIT'),
  };
}
