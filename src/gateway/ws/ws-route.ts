import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { HistoryClient, MessageBus } from '../../bus/types.ts';
import type { Config } from '../../config.ts';
import { normalizeUsername } from '../../domain/names.ts';
import { ChatError } from '../../errors.ts';
import { CLOSE } from '../../protocol.ts';
import type { CloseCode } from '../../protocol.ts';
import type { AuthParts } from '../auth/gate.ts';
import type { GatewayMetrics } from '../metrics.ts';
import type { OriginPolicy } from '../origin.ts';
import { plainInteger } from '../validation.ts';
import { AddressLimit } from './address-limit.ts';
import { ChatSession } from './chat-session.ts';
import type { RoomHub } from './room-hub.ts';

/** The route's own needs and, passed on to each session, the session's (SessionDeps). */
export interface WebSocketDeps {
  config: Config;
  bus: MessageBus;
  history: HistoryClient;
  hub: RoomHub<ChatSession>;
  metrics: GatewayMetrics;
  log: FastifyBaseLogger;
  origins: OriginPolicy;
  /** Outside open mode: who opened the socket comes from its credentials. */
  auth: AuthParts | undefined;
}

/** A plain decimal integer (no sign, no leading zero) of at least `min`, else undefined. */
function idOf(text: unknown, min: number): number | undefined {
  const id = typeof text === 'string' ? plainInteger(text) : undefined;
  return id !== undefined && Number.isSafeInteger(id) && id >= min ? id : undefined;
}

interface WsQuery {
  username?: string;
  since?: string;
}

/**
 * `GET /ws/{server_id}?username=NAME[&since=ID]`: the chat's WebSocket endpoint. Outside open mode
 * the username is the credentials' (cookie, `Authorization: Bearer` or `?access_token=`, checked
 * by the auth gate before the upgrade) and `?username=` is ignored. Close codes in the
 * contract's order: 4401 (4403 for a disabled user), 4404, 4400.
 */
export function registerWebSocketRoute(app: FastifyInstance, deps: WebSocketDeps): void {
  const addresses = new AddressLimit(deps.config.connectionsPerAddress);
  const tooManyConnections =
    `At most ${addresses.max} WebSockets may be open from one client address ` +
    '(CONNECTIONS_PER_ADDRESS); close one first';
  app.get<{ Params: { serverId: string }; Querystring: WsQuery }>(
    '/ws/:serverId',
    {
      websocket: true,
      schema: { hide: true },
      preValidation: (request, _reply, done) => {
        if (!deps.origins.allows(request)) {
          done(
            new ChatError(
              'origin_not_allowed',
              'WebSocket connections are not accepted from this origin (only from the ' +
                'gateway’s own pages and ALLOWED_ORIGINS)',
            ),
          );
          return;
        }
        if (request.ws) {
          const release = addresses.take(request.ip);
          if (!release) {
            done(new ChatError('rate_limited', tooManyConnections));
            return;
          }
          request.raw.socket.once('close', release);
        }
        done();
      },
    },
    (socket, request) => {
      const reject = (code: CloseCode, reason: string) => {
        deps.metrics.errors.inc({ code: String(code) });
        socket.close(code, reason);
      };
      const identity = request.identity;
      if (deps.auth && (!identity || 'refusal' in identity)) {
        if (identity?.refusal === 'user_disabled') reject(CLOSE.forbidden, 'account disabled');
        else
          reject(CLOSE.unauthenticated, 'sign in first: missing, invalid or expired credentials');
        return;
      }
      const principal = identity && 'principal' in identity ? identity.principal : undefined;
      const serverId = idOf(request.params.serverId, 1);
      if (serverId === undefined) {
        reject(CLOSE.unknownRoom, 'unknown room');
        return;
      }
      const query = request.query;
      const username =
        principal?.username ??
        normalizeUsername(typeof query.username === 'string' ? query.username : undefined);
      if (username === undefined) {
        reject(
          CLOSE.badRequest,
          'username must have 1-32 characters and no control, format or separator characters',
        );
        return;
      }
      const since = query.since === undefined ? undefined : idOf(query.since, 0);
      if (query.since !== undefined && since === undefined) {
        reject(CLOSE.badRequest, 'since must be a message id (a plain decimal integer)');
        return;
      }
      // The session attaches its listeners now, before any await, and queues early frames.
      const auth = deps.auth;
      const session = new ChatSession(
        socket,
        { serverId, username, admin: principal?.admin ?? false, since },
        auth ? { ...deps, isArchived: (id) => auth.access.isArchived(id) } : deps,
      );
      if (principal && auth) {
        const release = auth.sockets.add(principal, serverId, (code, reason) =>
          session.close(code, reason),
        );
        socket.once('close', release);
      }
      const viewer = principal ? { username: principal.username, admin: principal.admin } : null;
      // a private room the viewer may not see is an unknown room: 4404, so it does not leak
      void deps.history.getRoom(serverId, viewer).then(
        (room) => {
          if (room) return session.start();
          session.close(CLOSE.unknownRoom, 'unknown room');
        },
        (error: unknown) => {
          deps.log.warn({ err: error }, 'room lookup failed');
          session.close(CLOSE.tryAgainLater, 'history unavailable, try again later');
        },
      );
    },
  );
}
