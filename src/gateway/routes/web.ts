import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';

const WEB_DIR = fileURLToPath(new URL('../../web/', import.meta.url));

const FILES = [
  { route: '/', file: 'index.html', type: 'text/html; charset=utf-8' },
  { route: '/app.js', file: 'app.js', type: 'text/javascript; charset=utf-8' },
  { route: '/style.css', file: 'style.css', type: 'text/css; charset=utf-8' },
] as const;

/** The chat page: a few static files, read once at start. */
export function webRoutes(app: FastifyInstance): void {
  for (const { route, file, type } of FILES) {
    const body = fs.readFileSync(path.join(WEB_DIR, file));
    app.get(route, { schema: { hide: true } }, (_request, reply) =>
      reply
        .type(type)
        .header('cache-control', 'no-cache')
        .header(
          'content-security-policy',
          "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:",
        )
        .send(body),
    );
  }
}
