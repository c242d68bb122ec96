import type { FastifyInstance } from 'fastify';
import type { HistoryClient, MessageBus } from '../../bus/types.ts';
import type { GatewayMetrics } from '../metrics.ts';
import { errorRef } from './schemas.ts';

export interface HealthDeps {
  bus: MessageBus;
  history: HistoryClient;
  metrics: GatewayMetrics;
}

/** Liveness, readiness and Prometheus metrics. */
export function healthRoutes(app: FastifyInstance, deps: HealthDeps): void {
  const status = {
    type: 'object',
    properties: {
      status: { type: 'string' },
      bus: { type: 'boolean' },
      storage: { type: 'boolean' },
    },
  } as const;

  app.get(
    '/healthz',
    { schema: { summary: 'The process is running', tags: ['health'], response: { 200: status } } },
    () => ({ status: 'ok' }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        summary: 'Bus and storage answer (503 when either does not)',
        tags: ['health'],
        response: { 200: status, 503: status },
      },
    },
    async (_request, reply) => {
      const bus = deps.bus.isReady();
      const storage = await deps.history.isReady().catch(() => false);
      const ready = bus && storage;
      return reply
        .code(ready ? 200 : 503)
        .send({ status: ready ? 'ready' : 'unavailable', bus, storage });
    },
  );

  app.get(
    '/metrics',
    {
      schema: {
        summary: 'Prometheus metrics: connections, rooms, messages in and out, errors, history lag',
        tags: ['health'],
        produces: ['text/plain'],
        response: { 200: { type: 'string' }, 500: errorRef },
      },
    },
    async (_request, reply) => {
      const text = await deps.metrics.registry.metrics();
      return reply.type(deps.metrics.registry.contentType).send(text);
    },
  );
}
