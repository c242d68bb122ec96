import http from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import zlib from 'node:zlib';

/** A real PNG of `width` × `height` pixels (RGB, one colour), as a browser can show it. */
export function tinyPng(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8 bits per channel, RGB
  const row = Buffer.concat([Buffer.from([0]), Buffer.alloc(width * 3, 0x5a)]);
  const pixels = zlib.deflateSync(Buffer.concat(Array.from({ length: height }, () => row)));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', pixels),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A GIF89a of `width` × `height` pixels (one colour, one-pixel image data). */
export function tinyGif(width: number, height: number): Buffer {
  const size = Buffer.alloc(4);
  size.writeUInt16LE(width, 0);
  size.writeUInt16LE(height, 2);
  return Buffer.concat([
    Buffer.from('GIF89a', 'latin1'),
    size,
    Buffer.from([0x80, 0, 0, 0xff, 0xff, 0xff, 0, 0, 0]),
    Buffer.from([0x2c, 0, 0, 0, 0]),
    size,
    Buffer.from([0, 2, 2, 0x44, 0x01, 0, 0x3b]),
  ]);
}

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a route's JSON, read field by field
  json: Record<string, any>;
  bytes: Buffer;
}

export interface UploadOptions {
  /** Sent without Content-Length, in two chunks (Transfer-Encoding: chunked). */
  chunked?: boolean;
  headers?: Record<string, string>;
}

/** One HTTP request with a raw body, sized or chunked, through node:http. */
export function rawRequest(
  url: string,
  method: string,
  body: Buffer | undefined,
  options: UploadOptions = {},
): Promise<Answer> {
  const headers = { ...options.headers };
  if (body && !options.chunked) headers['content-length'] = String(body.length);
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method, headers }, (response) => {
      const parts: Buffer[] = [];
      response.on('data', (part: Buffer) => parts.push(part));
      response.on('end', () => {
        const bytes = Buffer.concat(parts);
        const isJson = response.headers['content-type']?.includes('json') ?? false;
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          json: isJson ? (JSON.parse(bytes.toString('utf8')) as Answer['json']) : {},
          bytes,
        });
      });
    });
    request.on('error', reject);
    if (body && options.chunked) {
      const half = Math.floor(body.length / 2);
      request.write(body.subarray(0, half));
      request.end(body.subarray(half));
    } else {
      request.end(body);
    }
  });
}

/** `POST /api/servers/{room}/attachments?name=…&…` with `bytes` as the body. */
export function upload(
  baseUrl: string,
  room: number,
  name: string,
  bytes: Buffer,
  query: Record<string, string> = {},
  options: UploadOptions = {},
): Promise<Answer> {
  const params = new URLSearchParams({ name, ...query });
  return rawRequest(`${baseUrl}/api/servers/${room}/attachments?${params}`, 'POST', bytes, options);
}

/** `GET /api/attachments/{id}` (with `?username=` when given). */
export function download(
  baseUrl: string,
  id: string,
  username?: string,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const query = username === undefined ? '' : `?username=${encodeURIComponent(username)}`;
  return rawRequest(`${baseUrl}/api/attachments/${id}${query}`, 'GET', undefined, { headers });
}
