import type { FastifyInstance } from 'fastify';
import type { Config } from '../../config.ts';
import { MAX_ROOM_NAME_CHARS, MAX_USERNAME_CHARS } from '../../domain/message.ts';
import type { ClientConfig } from '../../protocol.ts';
import { clientConfigSchema } from './schemas.ts';

/** `GET /api/config`: the limits a client needs, read from the gateway's configuration. */
export function configRoutes(app: FastifyInstance, config: Config): void {
  const body: ClientConfig = Object.freeze({
    max_message_chars: config.maxMessageChars,
    max_username_chars: MAX_USERNAME_CHARS,
    max_room_name_chars: MAX_ROOM_NAME_CHARS,
    history_replay: config.historyReplay,
    rate_limit: config.rateLimit,
  });
  app.get(
    '/api/config',
    {
      schema: {
        summary: 'The limits a client needs (message length, names, replay, rate limit)',
        tags: ['config'],
        response: { 200: clientConfigSchema },
      },
    },
    () => body,
  );
}
