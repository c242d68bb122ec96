import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';

/**
 * The page's folder beside this module's: `src/web/` when the sources run (tests), `dist/web/`
 * in the build, where `npm run build` copies it.
 */
const WEB_DIR = fileURLToPath(new URL('../../web/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
};

/** Every file of the page's folder with a known type, by URL path; index.html is also `/`. */
function readPage(dir: string): Map<string, { body: Buffer; type: string }> {
  let names: string[];
  try {
    names = fs.readdirSync(dir, { recursive: true, encoding: 'utf8' });
  } catch (error) {
    throw new Error(`the chat page's files are missing from ${dir}: run "npm run build"`, {
      cause: error,
    });
  }
  const files = new Map<string, { body: Buffer; type: string }>();
  for (const name of names.sort()) {
    const type = TYPES[path.extname(name)];
    const file = path.join(dir, name);
    if (type === undefined || !fs.statSync(file).isFile()) continue;
    const route = `/${name.split(path.sep).join('/')}`;
    const page = { body: fs.readFileSync(file), type };
    files.set(route, page);
    if (route === '/index.html') files.set('/', page);
  }
  return files;
}

/** The chat page: the static files of its folder, read once at start. */
export function webRoutes(app: FastifyInstance): void {
  for (const [route, { body, type }] of readPage(WEB_DIR)) {
    app.get(route, { schema: { hide: true } }, (_request, reply) =>
      // The CSP and the other safety headers: security-headers.ts, for every route.
      reply.type(type).header('cache-control', 'no-cache').send(body),
    );
  }
}
