import type { ClientOptions } from 'ws';
import { startTestChat } from './chat-server.ts';
import type { TestChat } from './chat-server.ts';
import { ChatClient } from './ws-client.ts';

export interface ApiAnswer {
  status: number;
  /** The JSON body (an object for most routes; a test that expects an array casts it). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any route's JSON, read field by field
  body: Record<string, any>;
  headers: Headers;
}

/**
 * A REST client of one user, as a browser or a script would be: it keeps the session cookie the
 * server sets (or sends a bearer token), and opens WebSockets with the same credentials.
 */
export class ApiClient {
  cookie: string | undefined;
  bearer: string | undefined;
  /** Sent with every request: what a browser or a proxy adds (Origin, X-Forwarded-For, …). */
  headers: Record<string, string> = {};

  constructor(readonly url: string) {}

  async call(method: string, path: string, body?: unknown): Promise<ApiAnswer> {
    const headers: Record<string, string> = { ...this.headers };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.cookie) headers.cookie = this.cookie;
    if (this.bearer) headers.authorization = `Bearer ${this.bearer}`;
    const response = await fetch(this.url + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const setCookie = response.headers.get('set-cookie');
    if (setCookie?.startsWith('chatroom_session=')) {
      const value = setCookie.split(';')[0]!;
      this.cookie = value === 'chatroom_session=' ? undefined : value;
    }
    const text = await response.text();
    const type = response.headers.get('content-type') ?? '';
    return {
      status: response.status,
      body: (type.includes('json') && text ? JSON.parse(text) : { text }) as Record<
        string,
        unknown
      >,
      headers: response.headers,
    };
  }

  get(path: string) {
    return this.call('GET', path);
  }

  post(path: string, body: unknown = {}) {
    return this.call('POST', path, body);
  }

  /** Registers and keeps the session; fails the test unless it is 201. */
  async register(username: string, password: string, invite?: string) {
    const answer = await this.post('/api/auth/register', { username, password, invite });
    if (answer.status !== 201) throw new Error(`register ${username}: ${JSON.stringify(answer)}`);
    return answer.body as { username: string; admin: boolean };
  }

  async login(username: string, password: string) {
    const answer = await this.post('/api/auth/login', { username, password });
    if (answer.status !== 200) throw new Error(`login ${username}: ${JSON.stringify(answer)}`);
    return answer.body as { username: string; admin: boolean };
  }

  /** A WebSocket to a room with this client's credentials (its cookie or bearer token). */
  connect(room: number | string, query = ''): ChatClient {
    return ChatClient.connect(this.wsUrl(room, query), this.wsOptions());
  }

  join(room: number | string, query = '') {
    return ChatClient.join(this.wsUrl(room, query), this.wsOptions());
  }

  private wsUrl(room: number | string, query: string): string {
    return `${this.url.replace(/^http/, 'ws')}/ws/${room}${query ? `?${query}` : ''}`;
  }

  private wsOptions(): ClientOptions {
    const headers: Record<string, string> = {};
    if (this.cookie) headers.cookie = this.cookie;
    if (this.bearer) headers.authorization = `Bearer ${this.bearer}`;
    return { headers };
  }
}

export interface AccountsChat {
  server: TestChat;
  /** The first account (the admin), signed in. */
  admin: ApiClient;
  /** An invite code made by the admin. */
  invite: string;
  /** A new user registered with the invite, signed in. */
  newUser: (username: string, password?: string) => Promise<ApiClient>;
}

/** A server in accounts mode (no message rate limit; `env` adds settings), its admin and an invite. */
export async function startAccountsChat(env: Record<string, string> = {}): Promise<AccountsChat> {
  const server = await startTestChat({ AUTH: 'accounts', RATE_LIMIT: '0', ...env });
  const admin = new ApiClient(server.url);
  await admin.register('root', 'root password');
  const invite = (await admin.post('/api/invites')).body.code as string;
  const newUser = async (username: string, password = 'a good password') => {
    const client = new ApiClient(server.url);
    await client.register(username, password, invite);
    return client;
  };
  return { server, admin, invite, newUser };
}
