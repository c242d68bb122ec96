/** Helpers of the NATS-mode suites: processes sharing one nats-server, accounts across gateways. */
import { ApiClient } from './accounts.ts';
import { spawnChat, tempDir } from './chat-server.ts';
import type { ChatProcess } from './chat-server.ts';
import { eventually } from './eventually.ts';

/**
 * The variables of a NATS-mode process (gateway or history service) in accounts mode, with open
 * registration, the shared SESSION_SECRET and no message or REST rate limit; `extra` adds to
 * them or overrides them.
 */
export function natsAccountsEnv(
  natsUrl: string,
  dataDir: string,
  secret: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    NATS_URL: natsUrl,
    DATA_DIR: dataDir,
    AUTH: 'accounts',
    REGISTRATION: 'open',
    SESSION_SECRET: secret,
    RATE_LIMIT: '0',
    REST_RATE_LIMIT: '0',
    NATS_REQUEST_TIMEOUT: '3s',
    ...extra,
  };
}

/** The same session (its cookie) or token, used on another gateway. */
export function onGateway(gateway: ChatProcess, client: ApiClient): ApiClient {
  const copy = new ApiClient(gateway.url);
  copy.cookie = client.cookie;
  copy.bearer = client.bearer;
  return copy;
}

/** A new account registered through `gateway`, signed in there. */
export async function registeredOn(
  gateway: ChatProcess,
  username: string,
  password = 'a good password',
): Promise<ApiClient> {
  const client = new ApiClient(gateway.url);
  await client.register(username, password);
  return client;
}

/** Two gateways (processes, each its own DATA_DIR), once both answer `/readyz` with 200. */
export async function startGateways(
  env: (dataDir: string) => Record<string, string>,
): Promise<[ChatProcess, ChatProcess]> {
  const gateways = await Promise.all([
    spawnChat(env(tempDir()), ['gateway']),
    spawnChat(env(tempDir()), ['gateway']),
  ]);
  await eventually(
    () => Promise.all(gateways.map(async (g) => (await fetch(`${g.url}/readyz`)).status)),
    (statuses) => statuses.every((status) => status === 200),
  );
  return gateways;
}
