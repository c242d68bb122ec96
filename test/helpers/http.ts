import http from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  /** Parsed when the answer is JSON, else the text. */
  body: unknown;
}

/**
 * One HTTP request with exactly the headers given, `Host` included, which fetch() does not let
 * a test choose: what a DNS-rebinding page or a proxy sends.
 */
export function httpRequest(
  url: string,
  options: { method?: string; headers?: Record<string, string>; json?: unknown } = {},
): Promise<HttpAnswer> {
  const body = options.json === undefined ? undefined : JSON.stringify(options.json);
  const headers = {
    ...(body !== undefined && { 'content-type': 'application/json' }),
    ...options.headers,
  };
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: options.method ?? 'GET', headers }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => {
        const json = response.headers['content-type']?.includes('json') ?? false;
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          body: json ? (JSON.parse(text) as unknown) : text,
        });
      });
    });
    request.on('error', reject);
    request.end(body);
  });
}
