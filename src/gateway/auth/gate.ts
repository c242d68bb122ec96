import cookie from '@fastify/cookie';
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import type { AccountsClient, MessageBus } from '../../bus/types.ts';
import type { Config } from '../../config.ts';
import type { Principal } from '../../domain/identity.ts';
import type { Viewer } from '../../domain/rooms.ts';
import { ChatError, UnavailableError } from '../../errors.ts';
import { describeCodes } from '../routes/account-schemas.ts';
import { followAccessChanges } from './access-feed.ts';
import { AccessState } from './access-state.ts';
import { Authenticator } from './authenticator.ts';
import type { Identity } from './authenticator.ts';
import { CredentialCodec, SESSION_COOKIE } from './credentials.ts';
import { JwtVerifier } from './jwt.ts';
import { OpenSockets } from './open-sockets.ts';
import { SessionCookies } from './session-cookies.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who made the request (`/api/` and `/ws/` routes outside open mode), or why not. */
    identity: Identity | undefined;
  }
}

export interface AuthGateDeps {
  config: Config;
  bus: MessageBus;
  /** Needed outside open mode. */
  accounts: AccountsClient | undefined;
  /** SESSION_SECRET or the generated key; needed outside open mode. */
  sessionSecret: Buffer | undefined;
  log: FastifyBaseLogger;
}

/** What the routes and the WebSocket endpoint use of the gate, outside open mode. */
export interface AuthParts {
  mode: 'accounts' | 'jwt';
  accounts: AccountsClient;
  codec: CredentialCodec;
  cookies: SessionCookies;
  sockets: OpenSockets;
  /** What the access feed keeps: revocations, and the archived rooms. */
  access: AccessState;
}

/** The routes anyone may call: they are how one gets credentials. */
const PUBLIC = new Set(['POST /api/auth/register', 'POST /api/auth/login']);

const SECURITY_SCHEMES = {
  cookieAuth: { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE },
  bearerAuth: { type: 'http', scheme: 'bearer' },
} as const;

/** The principal of a request the gate let through (routes behind it only). */
export function principalOf(request: FastifyRequest): Principal {
  const identity = request.identity;
  if (!identity || !('principal' in identity)) {
    throw new ChatError('unauthenticated');
  }
  return identity.principal;
}

/**
 * Installs access control on the gateway, before any route is added: outside open mode it reads
 * the cookie, resolves every `/api/` and `/ws/` request's identity once (`request.identity`; the
 * refusal of the unauthenticated is `refuseUnauthenticated`'s), renews sliding sessions, describes the security schemes in the OpenAPI document, and
 * keeps the AccessState from storage's snapshot and the bus's access changes. In open mode it
 * does nothing and returns undefined.
 */
export async function installAuthGate(
  app: FastifyInstance,
  deps: AuthGateDeps,
): Promise<AuthParts | undefined> {
  const { config, accounts, sessionSecret } = deps;
  if (config.auth === 'open') return undefined;
  if (!accounts || !sessionSecret) throw new Error(`AUTH=${config.auth} needs accounts and a key`);
  await app.register(cookie);
  app.decorateRequest('identity', undefined);

  const access = new AccessState();
  const sockets = new OpenSockets(access);
  const feed = followAccessChanges(deps.bus, accounts, access, sockets, deps.log);
  const codec = new CredentialCodec(sessionSecret);
  const cookies = new SessionCookies(codec);
  const authenticator = new Authenticator({
    mode: config.auth,
    codec,
    access,
    jwt: config.jwt && new JwtVerifier(config.jwt),
    onJwtUser: (username) =>
      void accounts.recordUser(username).catch((error: unknown) => {
        deps.log.warn({ err: error }, 'could not record a JWT user');
      }),
  });

  app.addHook('onRequest', async (request, reply) => {
    const url = request.routeOptions.url;
    // no route: the 404 answers first (it also wins over 401 in JWT mode)
    if (url === undefined) return;
    const api = url.startsWith('/api/');
    const ws = url.startsWith('/ws/');
    if ((!api && !ws) || PUBLIC.has(`${request.method} ${url}`)) return;
    if (!feed.isLoaded()) await loadedWithin(feed.loaded, config.natsRequestTimeoutMs);
    const identity = await authenticator.identify({
      authorization: request.headers.authorization,
      cookie: request.cookies[SESSION_COOKIE],
      accessToken: ws ? accessTokenOf(request.query) : undefined,
    });
    request.identity = identity;
    if (api && 'principal' in identity && url !== '/api/auth/logout') {
      const { principal } = identity;
      cookies.renewIfDue(request, reply, principal, principal.credential);
    }
  });
  app.addHook('onRoute', describeSecurity);
  app.addHook('onClose', () => {
    feed.stop();
    sockets.close();
  });
  return { mode: config.auth, accounts, codec, cookies, sockets, access };
}

/**
 * Answers `401 unauthenticated` (`403 user_disabled`) on the `/api/` requests whose identity the
 * gate refused. Apart from `installAuthGate` so that the hooks between the two (the REST rate
 * limit, keyed by the identity) count refused requests too; a WebSocket is refused after its
 * upgrade instead, with its close code (4401 / 4403).
 */
export function refuseUnauthenticated(app: FastifyInstance): void {
  app.addHook('onRequest', (request, _reply, done) => {
    const identity = request.identity;
    if (identity && 'refusal' in identity && request.routeOptions.url?.startsWith('/api/')) {
      done(new ChatError(identity.refusal, identity.message));
      return;
    }
    done();
  });
}

/**
 * Who asks, for storage's access checks: the principal's name and admin flag; `null` in open mode
 * (an anonymous caller, who sees public rooms only).
 */
export function viewerOf(request: FastifyRequest): Viewer | null {
  const identity = request.identity;
  if (!identity || !('principal' in identity)) return null;
  const { username, admin } = identity.principal;
  return { username, admin };
}

/** Who a request counts against for the rate limits: its user, once the gate let it through. */
export function userOf(request: FastifyRequest): string | undefined {
  const identity = request.identity;
  return identity && 'principal' in identity ? identity.principal.username : undefined;
}

/** The OpenAPI document's security schemes, outside open mode. */
export function securitySchemes(config: Config) {
  return config.auth === 'open' ? {} : { components: { securitySchemes: SECURITY_SCHEMES } };
}

/**
 * Waits for the access state at most `ms`: until it is loaded, no credentials can be checked
 * against revocations, so a request that comes too early is `503 unavailable`.
 */
async function loadedWithin(loaded: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), ms);
  });
  const outcome = await Promise.race([loaded.then(() => 'loaded' as const), late]);
  clearTimeout(timer);
  if (outcome === 'late') {
    throw new UnavailableError('This gateway is still loading the access state; retry');
  }
}

/** `?access_token=` once; anything else (repeated, empty) is a bad credential: ''. */
function accessTokenOf(query: unknown): string | undefined {
  const value = (query as Record<string, unknown> | undefined)?.access_token;
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : '';
}

/** Each `/api/` route but the public ones says in the OpenAPI document that it needs credentials. */
function describeSecurity(route: RouteOptions): void {
  if (!route.url.startsWith('/api/') || route.schema?.hide) return;
  const methods = [route.method].flat();
  if (methods.every((method) => PUBLIC.has(`${method} ${route.url}`))) {
    route.schema = { ...route.schema, security: [] };
    return;
  }
  const response = { ...(route.schema?.response ?? {}) } as Record<string, unknown>;
  response[401] = { description: describeCodes(['unauthenticated']), $ref: 'Error#' };
  const forbidden = response[403] as { description?: string } | undefined;
  response[403] = {
    description: [forbidden?.description, describeCodes(['user_disabled'])]
      .filter(Boolean)
      .join(', '),
    $ref: 'Error#',
  };
  route.schema = { ...route.schema, security: [{ cookieAuth: [] }, { bearerAuth: [] }], response };
}
