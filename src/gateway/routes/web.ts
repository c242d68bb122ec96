import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { AccountsClient } from '../../bus/types.ts';
import type { AuthMode } from '../../domain/identity.ts';

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

export interface WebDeps {
  mode: AuthMode;
  /** Outside open mode: whether the first account is still to be made. */
  accounts: AccountsClient | undefined;
}

/** The placeholder of index.html that says the mode (`<meta name="chatroom-auth">`). */
const AUTH_META = /<meta name="chatroom-auth" content="[^"]*" \/>/;

/**
 * The chat page: the static files of its folder, read once at start. The page itself (`/`) says
 * in `<meta>` elements how one signs in, so that it needs no request before its form: the AUTH
 * mode and, in accounts mode, whether the next account is the first (the admin). Markup, not an
 * inline script, so that the Content-Security-Policy stays as strict.
 */
export function webRoutes(app: FastifyInstance, deps: WebDeps): void {
  const page = pageOf(deps);
  for (const [route, { body, type }] of readPage(WEB_DIR)) {
    const isPage = route === '/' || route === '/index.html';
    app.get(route, { schema: { hide: true } }, async (_request, reply) =>
      // The CSP and the other safety headers: security-headers.ts, for every route.
      reply
        .type(type)
        .header('cache-control', 'no-cache')
        .send(isPage ? await page(body) : body),
    );
  }
}

/** Renders index.html for the mode; in accounts mode asks storage until an account exists. */
function pageOf(deps: WebDeps): (body: Buffer) => Promise<Buffer | string> {
  if (deps.mode === 'open') return (body) => Promise.resolve(body);
  const withMeta = (body: Buffer, first: boolean) =>
    body
      .toString('utf8')
      .replace(
        AUTH_META,
        `<meta name="chatroom-auth" content="${deps.mode}" />` +
          (first ? '\n    <meta name="chatroom-first-account" content="true" />' : ''),
      );
  // once true, it stays true: accounts are never deleted
  let hasUsers = deps.mode === 'jwt';
  return async (body) => {
    if (hasUsers || !deps.accounts) return withMeta(body, false);
    // storage out of reach: the page says nothing of a first account (the form still works)
    const known = await deps.accounts.hasUsers().catch(() => undefined);
    hasUsers = known === true;
    return withMeta(body, known === false);
  };
}
