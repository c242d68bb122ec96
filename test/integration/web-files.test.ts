/**
 * The page's folder as the gateway serves it: every file at its path with its type and the
 * Content-Security-Policy, nothing outside the folder, and modules that load in a browser as
 * they are (no bundler): each imports only files of the folder, by relative path.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, startTestChat } from '../helpers/chat-server.ts';
import type { TestChat } from '../helpers/chat-server.ts';

const WEB = path.join(ROOT, 'src/web');
// The one policy of every route (src/gateway/security-headers.ts), as helmet writes it.
const CSP =
  "default-src 'self';script-src 'self';style-src 'self';img-src 'self' data:;" +
  "connect-src 'self';object-src 'none';base-uri 'none';form-action 'self';frame-ancestors 'none'";
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

function webFiles(): string[] {
  return fs
    .readdirSync(WEB, { recursive: true, encoding: 'utf8' })
    .filter((name) => fs.statSync(path.join(WEB, name)).isFile())
    .map((name) => name.split(path.sep).join('/'));
}

let chat: TestChat;

beforeAll(async () => {
  chat = await startTestChat();
});

afterAll(async () => {
  await chat.close();
});

describe("the page's files", () => {
  it('serves each at its path, with its type, no-cache and the CSP; index.html also at /', async () => {
    const files = webFiles();
    expect(files).toEqual(expect.arrayContaining(['index.html', 'app.js', 'connection.js']));
    for (const file of [...files, '']) {
      const name = file || 'index.html';
      const response = await fetch(`${chat.url}/${file}`);
      expect(response.status, file).toBe(200);
      expect(response.headers.get('content-type'), file).toBe(TYPES[path.extname(name)]);
      expect(response.headers.get('cache-control'), file).toBe('no-cache');
      expect(response.headers.get('content-security-policy'), file).toBe(CSP);
      expect(await response.text(), file).toBe(fs.readFileSync(path.join(WEB, name), 'utf8'));
    }
  });

  it('serves nothing outside the folder, however the path is spelled', async () => {
    for (const url of [
      '/../package.json',
      '/%2e%2e/package.json',
      '/css/../../package.json',
      '/css/..%2f..%2fpackage.json',
      '/..%5cpackage.json',
      '/%2e%2e%2fsrc/config.ts',
      '/gateway/routes/web.ts',
    ]) {
      const response = await fetch(`${chat.url}${url}`);
      expect(response.status, url).toBe(404);
      expect(await response.text(), url).not.toContain('"dependencies"');
    }
  });

  it('links from index.html only files it serves, and has no inline script or style', () => {
    const html = fs.readFileSync(path.join(WEB, 'index.html'), 'utf8');
    const links = [...html.matchAll(/\b(?:href|src)="([^"]+)"/g)].map((m) => m[1]!);
    const local = links.filter((link) => link.startsWith('/'));
    expect(local).toEqual(expect.arrayContaining(['/app.js', '/css/base.css']));
    for (const link of local) expect(webFiles(), link).toContain(link.slice(1));
    // The CSP (default-src 'self') would refuse them.
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/<style|\sstyle="/);
  });

  it('has modules that import only modules of the folder, by relative path', () => {
    let imports = 0;
    for (const file of webFiles().filter((name) => name.endsWith('.js'))) {
      const code = fs.readFileSync(path.join(WEB, file), 'utf8');
      // Type references in JSDoc comments are for tsc only; they are not loaded.
      const statements = code.replace(/\/\*[\s\S]*?\*\//g, '');
      for (const [, specifier] of statements.matchAll(/\b(?:from|import)\s*\(?\s*'([^']+)'/g)) {
        imports++;
        expect(specifier, file).toMatch(/^\.\/[\w-]+\.js$/);
        expect(webFiles(), `${file} imports ${specifier}`).toContain(
          path.posix.join(path.posix.dirname(file), specifier!),
        );
      }
    }
    expect(imports).toBeGreaterThan(20);
  });
});
