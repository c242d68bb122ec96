import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import type { Config } from '../config.ts';
import { ChatError } from '../errors.ts';
import { SESSION_COOKIE } from './auth/credentials.ts';
import { OriginPolicy } from './origin.ts';
import { minuteLimit, registerRateLimits } from './rate-limits.ts';
import type { RequestLimit } from './rate-limits.ts';

/** What the routes need from the gateway's protections. */
export interface Security {
  /** Whose browser pages may open a WebSocket (and, below, change state). */
  origins: OriginPolicy;
  /** ROOM_CREATE_LIMIT, for `POST /api/servers`; undefined when it is off. */
  limitRoomCreation: RequestLimit | undefined;
  /** UPLOAD_RATE_LIMIT, for uploads; undefined when it is off. */
  limitUploads: RequestLimit | undefined;
}

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** A request to the API: by its route (`/%61pi/servers` routes to `/api/servers`), else its URL. */
function isApiRequest(request: FastifyRequest): boolean {
  return (request.routeOptions.url ?? request.url).startsWith('/api/');
}

/** What REST_RATE_LIMIT counts: the API, but the bytes of attachments (a page shows many). */
function countsAsRest(request: FastifyRequest): boolean {
  if (request.method === 'GET' && request.routeOptions.url === '/api/attachments/:id') return false;
  return isApiRequest(request);
}

/** Does the request carry the session cookie (valid or not)? Read from the header itself. */
function carriesSessionCookie(request: FastifyRequest): boolean {
  return (request.headers.cookie ?? '')
    .split(';')
    .some((pair) => pair.trim().startsWith(`${SESSION_COOKIE}=`));
}

function carriesBearerToken(request: FastifyRequest): boolean {
  return /^bearer\s/i.test(request.headers.authorization ?? '');
}

/** The routes that answer with a session cookie: a foreign page must not sign a browser in. */
const SIGN_IN = new Set(['/api/auth/register', '/api/auth/login', '/api/auth/session']);

/**
 * A state change from a foreign origin (CSRF) the gateway refuses. The contract refuses the ones
 * that carry the session cookie, the credential a browser attaches by itself. Stricter than that:
 * outside open mode only a request with a Bearer token and no cookie passes (a program, or a
 * page holding a token it was given: no other site's page can make a browser send one), and
 * never to a route that sets the cookie (login CSRF: a foreign page signing the browser in to
 * an account of its choosing); in open mode, which has no credentials at all, every one is
 * refused (no other site's page is meant to change state here).
 */
function isForgeable(config: Config, request: FastifyRequest): boolean {
  if (config.auth === 'open' || SIGN_IN.has(request.routeOptions.url ?? '')) return true;
  return carriesSessionCookie(request) || !carriesBearerToken(request);
}

/**
 * `/api/` requests, before their route: REST_RATE_LIMIT, per user once the auth gate (installed
 * before this) knows who calls, else per client address; then the refusal of state changes
 * from foreign origins. The safety headers (`registerSecurityHeaders`) come first of all.
 */
export async function registerSecurity(app: FastifyInstance, config: Config): Promise<Security> {
  await registerRateLimits(app);
  const origins = new OriginPolicy(config.allowedOrigins, app.log);

  const limitRest = minuteLimit(app, config.restRateLimit, 'REST_RATE_LIMIT');
  if (limitRest) {
    app.addHook('onRequest', async (request, reply) => {
      if (countsAsRest(request)) await limitRest(request, reply);
    });
  }

  app.addHook('onRoute', describeOriginRefusal);
  app.addHook('onRequest', (request, _reply, done) => {
    if (
      STATE_CHANGING.has(request.method) &&
      isApiRequest(request) &&
      isForgeable(config, request) &&
      !origins.allows(request)
    ) {
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
    limitUploads: minuteLimit(app, config.uploadRateLimit, 'UPLOAD_RATE_LIMIT'),
  };
}

/** Each state-changing `/api/` route says in the OpenAPI document that it refuses foreign origins. */
function describeOriginRefusal(route: RouteOptions): void {
  const methods = [route.method].flat();
  if (!route.url.startsWith('/api/') || route.schema?.hide) return;
  if (!methods.some((method) => STATE_CHANGING.has(method))) return;
  const response = { ...(route.schema?.response ?? {}) } as Record<string, unknown>;
  const forbidden = response[403] as { description?: string } | undefined;
  if (forbidden?.description?.includes('origin_not_allowed')) return;
  response[403] = {
    description: [forbidden?.description, '`origin_not_allowed`'].filter(Boolean).join(', '),
    $ref: 'Error#',
  };
  route.schema = { ...route.schema, response };
}
