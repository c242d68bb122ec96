import { STATUS_CODES } from 'node:http';
import Fastify from 'fastify';
import type { FastifyBaseLogger, FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import websocket from '@fastify/websocket';
import type { AccountsClient, HistoryClient, MessageBus } from '../bus/types.ts';
import type { Config } from '../config.ts';
import type { AttachmentBlobs } from '../domain/attachments.ts';
import { ChatError, ERRORS, RateLimitedError } from '../errors.ts';
import type { ErrorCode } from '../errors.ts';
import { CLOSE } from '../protocol.ts';
import { installAuthGate, refuseUnauthenticated, securitySchemes } from './auth/gate.ts';
import { createMetrics } from './metrics.ts';
import type { GatewayMetrics } from './metrics.ts';
import { inviteSchema, newTokenSchema, tokenSchema, userSchema } from './routes/account-schemas.ts';
import { accountRoutes } from './routes/accounts.ts';
import { attachmentRoutes } from './routes/attachments.ts';
import { configRoutes } from './routes/config.ts';
import { healthRoutes } from './routes/health.ts';
import { roomMemberRoutes } from './routes/room-members.ts';
import { roomRoutes } from './routes/rooms.ts';
import {
  attachmentSchema,
  errorSchema,
  messageSchema,
  roomSchema,
  tombstoneSchema,
  unreadCountsSchema,
} from './routes/schemas.ts';
import { searchPageSchema, searchRoutes } from './routes/search.ts';
import { unreadRoutes } from './routes/unread.ts';
import { tokenAndAdminRoutes } from './routes/tokens.ts';
import { webRoutes } from './routes/web.ts';
import { DOCS_CSP, registerSecurityHeaders } from './security-headers.ts';
import { registerSecurity } from './security.ts';
import { ajvOptions, readIntegersStrictly } from './validation.ts';
import type { ChatSession } from './ws/chat-session.ts';
import { RoomHub } from './ws/room-hub.ts';
import { UnreadHub } from './ws/unread-hub.ts';
import { registerWebSocketRoute } from './ws/ws-route.ts';

export interface GatewayDeps {
  config: Config;
  bus: MessageBus;
  history: HistoryClient;
  /** Where attachment bytes live (files in embedded mode, the Object Store in NATS mode). */
  blobs: AttachmentBlobs;
  gatewayId: string;
  logger: FastifyBaseLogger | boolean;
  /** Outside AUTH=open: accounts, tokens and sessions (storage's), and the signing key. */
  accounts?: AccountsClient;
  sessionSecret?: Buffer;
}

export interface Gateway {
  app: FastifyInstance;
  hub: RoomHub<ChatSession>;
  unread: UnreadHub;
  metrics: GatewayMetrics;
}

function errorBody(status: number, code: ErrorCode, message: string) {
  return { statusCode: status, code, error: STATUS_CODES[status] ?? 'Error', message };
}

/**
 * Builds the gateway (REST, WebSocket, UI, docs, metrics) from its dependencies. It never
 * listens by itself: `main.ts` and the tests do.
 */
export async function buildGateway(deps: GatewayDeps): Promise<Gateway> {
  const { config, bus, history } = deps;
  const app = Fastify({
    ...(typeof deps.logger === 'boolean'
      ? { logger: deps.logger }
      : { loggerInstance: deps.logger }),
    // WebSocket frames above the limit are refused by ws with 1009; request bodies by Fastify.
    bodyLimit: config.maxFrameBytes,
    // TRUST_PROXY: the client address, scheme and host from X-Forwarded-* of trusted peers only.
    trustProxy: typeof config.trustProxy === 'boolean' ? config.trustProxy : [...config.trustProxy],
    ajv: ajvOptions,
    // A URL Fastify cannot route (a bad percent-encoding, a path parameter past 100 characters)
    // is a bad request like any other, in the catalogue's shape.
    frameworkErrors: (error, _request, reply: FastifyReply) => {
      metrics.errors.inc({ code: 'bad_request' });
      void reply.code(400).send(errorBody(400, 'bad_request', error.message));
    },
  });
  readIntegersStrictly(app);
  const metrics = createMetrics({
    rooms: () => history.roomCount(),
    historyLag: () => history.lag(),
  });
  const hub = new RoomHub<ChatSession>(
    bus,
    {
      gatewayId: deps.gatewayId,
      presenceBatchThreshold: config.presenceBatchThreshold,
      presenceDiffIntervalMs: config.presenceDiffIntervalMs,
      presenceHeartbeatMs: config.presenceHeartbeatMs,
      presenceTtlMs: config.presenceTtlMs,
    },
    metrics,
    app.log,
  );
  const unread = new UnreadHub(bus, history, { liveMentions: bus.liveMentions }, metrics, app.log);

  app.addSchema(roomSchema);
  app.addSchema(attachmentSchema);
  app.addSchema(messageSchema);
  app.addSchema(tombstoneSchema);
  app.addSchema(errorSchema);
  app.addSchema(searchPageSchema);
  app.addSchema(unreadCountsSchema);
  // Before every route, in this order (hooks of one kind run in the order they are added): the
  // safety headers, on every answer; who calls (the gate, which also documents it in each
  // route's schema); the REST rate limit keyed by that, and the CSRF refusal; then the 401s, so
  // that the limit counts refused requests against their address.
  await registerSecurityHeaders(app);
  const auth = await installAuthGate(app, {
    config,
    bus,
    accounts: deps.accounts,
    sessionSecret: deps.sessionSecret,
    log: app.log,
  });
  for (const schema of auth ? [userSchema, tokenSchema, newTokenSchema, inviteSchema] : []) {
    app.addSchema(schema);
  }

  app.setErrorHandler((error: FastifyError, _request, reply) => {
    if (error instanceof ChatError) {
      metrics.errors.inc({ code: error.code });
      if (error instanceof RateLimitedError) {
        void reply.header('retry-after', String(error.retryAfterSeconds));
      }
      if (error.status >= 500) app.log.warn({ err: error.cause ?? error }, error.message);
      return reply.code(error.status).send(errorBody(error.status, error.code, error.message));
    }
    if (error.validation || (error.statusCode !== undefined && error.statusCode < 500)) {
      const status = error.statusCode ?? 400;
      metrics.errors.inc({ code: 'bad_request' });
      return reply.code(status).send(errorBody(status, 'bad_request', error.message));
    }
    app.log.error({ err: error }, 'unexpected error');
    metrics.errors.inc({ code: 'internal' });
    return reply.code(500).send(errorBody(500, 'internal', ERRORS.internal.message));
  });
  app.setNotFoundHandler((request, reply) => {
    const message = `${ERRORS.not_found.message}: ${request.method} ${request.url}`;
    return reply.code(404).send(errorBody(404, 'not_found', message));
  });

  const security = await registerSecurity(app, config);
  if (auth) refuseUnauthenticated(app);

  await app.register(swagger, {
    openapi: {
      info: {
        title: 'chatroom',
        version: '0.1.0',
        description:
          'Real-time multi-room chat. The WebSocket protocol (`/ws/{server_id}`) is described in the README.',
      },
      tags: [
        { name: 'rooms' },
        { name: 'members' },
        { name: 'messages' },
        { name: 'attachments' },
        { name: 'unread' },
        { name: 'health' },
      ].concat(auth ? [{ name: 'accounts' }, { name: 'tokens' }, { name: 'admin' }] : []),
      ...securitySchemes(config),
    },
    // Components are named by their $id (Room, Message, Error), not def-0, def-1, ...
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) =>
        typeof json.$id === 'string' ? json.$id : `def-${i}`,
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: DOCS_CSP });
  const pinger = setInterval(() => {
    for (const session of hub.members()) session.ping();
  }, config.pingIntervalMs);
  pinger.unref();

  await app.register(websocket, {
    options: { maxPayload: config.maxFrameBytes },
    // Shutdown: every client, in a room or still joining, is told 1001 (going away).
    preClose(done) {
      clearInterval(pinger);
      for (const session of [...hub.members()]) {
        session.close(CLOSE.goingAway, 'server shutting down');
      }
      hub.close();
      unread.close();
      for (const client of this.websocketServer.clients) {
        client.close(CLOSE.goingAway, 'server shutting down');
      }
      this.websocketServer.close();
      done();
    },
  });

  const sessionDeps = {
    config,
    bus,
    history,
    hub,
    unread,
    metrics,
    log: app.log,
    origins: security.origins,
  };
  roomRoutes(app, {
    history,
    presence: hub.presence,
    limitRoomCreation: security.limitRoomCreation,
  });
  roomMemberRoutes(app, { history, limitRoomCreation: security.limitRoomCreation });
  attachmentRoutes(app, {
    history,
    blobs: deps.blobs,
    maxBytes: config.uploadMaxBytes,
    limitUploads: security.limitUploads,
  });
  searchRoutes(app, history);
  unreadRoutes(app, { history });
  configRoutes(app, config);
  if (auth) accountRoutes(app, { auth, config });
  if (auth?.mode === 'accounts') tokenAndAdminRoutes(app, auth);
  healthRoutes(app, { bus, history, metrics });
  app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger());
  webRoutes(app, { mode: config.auth, accounts: deps.accounts });
  registerWebSocketRoute(app, { ...sessionDeps, auth });

  return { app, hub, unread, metrics };
}
