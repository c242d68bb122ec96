import { isIP } from 'node:net';
import type { FastifyBaseLogger, FastifyRequest } from 'fastify';

// A Host header that is a host and an optional port, nothing else (no user info, no path).
const HOST = /^(?:\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::\d{1,5})?$/i;

/** `scheme://host[:port]` of a URL, or undefined when it has none (`null`, garbage). */
function originOf(text: string): string | undefined {
  try {
    const origin = new URL(text).origin;
    return origin === 'null' ? undefined : origin;
  } catch {
    return undefined;
  }
}

/**
 * The origin the request was addressed to (its scheme and `Host`; behind a trusted proxy its
 * X-Forwarded-Proto and -Host), but only when no other site can have it: when the host is an IP
 * address or `localhost`. `Host` is the client's to choose: in DNS rebinding the attacker's page
 * at http://evil.example:8000 has its name resolve to this gateway, and its requests carry
 * `Origin: http://evil.example:8000` and `Host: evil.example:8000`, which match. A name cannot
 * be trusted that way, an address can (no page elsewhere has it as its origin); the gateway
 * served under a name knows that name only from ALLOWED_ORIGINS.
 */
export function ownOrigin(request: FastifyRequest): string | undefined {
  const { protocol, host } = request;
  if ((protocol !== 'http' && protocol !== 'https') || !HOST.test(host)) return undefined;
  let url: URL;
  try {
    url = new URL(`${protocol}://${host}`);
  } catch {
    return undefined; // a bad IPv6 literal, a port past 65535
  }
  const name = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return isIP(name) !== 0 || name === 'localhost' ? url.origin : undefined;
}

/**
 * Which browser origins may open a WebSocket and change state through the API: the gateway's
 * own (`ownOrigin`) and ALLOWED_ORIGINS, compared whole (scheme, host and port). A request
 * without `Origin` comes from a program, not a page another site made the browser send: allowed.
 */
export class OriginPolicy {
  private warned = false;

  constructor(
    private readonly allowed: readonly string[],
    private readonly log: FastifyBaseLogger,
  ) {}

  allows(request: FastifyRequest): boolean {
    const header = request.headers.origin;
    if (header === undefined) return true;
    const origin = originOf(header);
    if (origin === undefined) return false;
    if (this.allowed.includes(origin) || origin === ownOrigin(request)) return true;
    this.warnOnce(request, origin);
    return false;
  }

  /**
   * A page refused though it was served under the name it was sent to: a gateway served under a
   * name without ALLOWED_ORIGINS, or a DNS-rebinding attempt. Said once, so that the operator
   * learns the setting and an attack does not flood the log.
   */
  private warnOnce(request: FastifyRequest, origin: string): void {
    if (this.warned || origin !== originOf(`${request.protocol}://${request.host}`)) return;
    this.warned = true;
    this.log.warn(
      { origin },
      `refused a browser request from ${origin}: a gateway served under a name (not an IP ` +
        'address or localhost) allows its pages only through ALLOWED_ORIGINS; add the ' +
        'origin there if it is this chat (the warning is not repeated)',
    );
  }
}
