import { createHash } from 'node:crypto';
import helmet from '@fastify/helmet';
import type { FastifyHelmetOptions } from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';

type CspOptions = Exclude<FastifyHelmetOptions['contentSecurityPolicy'], boolean | undefined>;

/** Inline scripts and styles a route's page holds, as CSP hash sources (`inlineSource`). */
export interface InlineSources {
  scripts?: readonly string[];
  styles?: readonly string[];
}

/**
 * The Content-Security-Policy directives of every response, built here only: the page's own
 * scripts, styles, images and WebSocket, nothing from elsewhere, never framed. `'self'` in
 * connect-src covers the same origin's ws: and wss: too (CSP level 3: Chromium, Firefox,
 * Safari), so no `ws:`, which would allow a socket to any host. `inline` adds the hashes of the
 * inline scripts and styles one route's page needs (an import map), nothing else.
 */
export function cspDirectives(inline: InlineSources = {}): Record<string, string[]> {
  const quoted = (sources: readonly string[] = []) => sources.map((source) => `'${source}'`);
  return {
    'default-src': ["'self'"],
    'script-src': ["'self'", ...quoted(inline.scripts)],
    'style-src': ["'self'", ...quoted(inline.styles)],
    // the page's favicon is a data: URL
    'img-src': ["'self'", 'data:'],
    'connect-src': ["'self'"],
    'object-src': ["'none'"],
    'base-uri': ["'none'"],
    'form-action': ["'self'"],
    'frame-ancestors': ["'none'"],
  };
}

function contentSecurityPolicy(inline: InlineSources = {}): CspOptions {
  return { useDefaults: false, directives: cspDirectives(inline) };
}

/** The CSP source (`sha256-…`, unquoted) allowing one inline script or style of exactly `text`. */
export function inlineSource(text: string): string {
  return `sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}`;
}

/**
 * A route's own helmet options when its page holds inline scripts or styles, e.g. the route
 * option `helmet: pageSecurityHeaders({ scripts: [inlineSource(importMap)] })`.
 */
export function pageSecurityHeaders(inline: InlineSources): FastifyHelmetOptions {
  return { contentSecurityPolicy: contentSecurityPolicy(inline) };
}

/**
 * /docs: swagger-ui draws its own logo as an SVG whose inline `<style>` colours it (and then
 * swaps in the logo image @fastify/swagger-ui gives it); that one style, by its hash.
 */
export const DOCS_CSP = cspDirectives({
  styles: [inlineSource('.logo_small_svg__cls-2{fill:#fff}.logo_small_svg__cls-3{fill:#85ea2d}')],
});

/**
 * Browser safety headers on every response (pages, assets, docs, API, health, errors):
 * the CSP above, `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer`,
 * `X-Frame-Options: DENY` for browsers without frame-ancestors, and helmet's other defaults
 * (Cross-Origin-Opener/Resource-Policy same-origin, …). No Strict-Transport-Security: the
 * gateway speaks plain HTTP; whether a name is HTTPS-only for a year is for the TLS proxy in
 * front of it to say.
 */
export async function registerSecurityHeaders(app: FastifyInstance): Promise<void> {
  await app.register(helmet, {
    global: true,
    contentSecurityPolicy: contentSecurityPolicy(),
    referrerPolicy: { policy: 'no-referrer' },
    xFrameOptions: { action: 'deny' },
    strictTransportSecurity: false,
  });
}
