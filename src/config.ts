import { createPublicKey, createSecretKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import fs from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import type { AuthMode, RegistrationPolicy } from './domain/identity.ts';

/** How JWTs are checked in AUTH=jwt: the one algorithm the key allows. */
export type JwtKey =
  | { algorithm: 'HS256'; secret: KeyObject }
  | { algorithm: 'RS256' | 'ES256' | 'EdDSA'; publicKey: KeyObject };

/** Everything chatroom reads from the environment, checked once at start and frozen. */
export interface Config {
  readonly port: number;
  readonly host: string;
  readonly natsUrl: string | undefined;
  readonly dataDir: string;
  readonly historyReplay: number;
  readonly rateLimit: number;
  readonly dedupeWindowMs: number;
  /** EDIT_WINDOW: how long after its `ts` an author may edit a message; 0: no limit. */
  readonly editWindowMs: number;
  /** UPLOAD_MAX_BYTES: the largest attachment. */
  readonly uploadMaxBytes: number;
  /** Uploads a minute per user (open mode: per client address); 0: no limit. */
  readonly uploadRateLimit: number;
  /** UPLOAD_UNSENT_TTL: how long an upload no message took is kept. */
  readonly uploadUnsentTtlMs: number;
  readonly allowedOrigins: readonly string[];
  /** WebSockets one client address may hold open on this gateway; 0: no limit. */
  readonly connectionsPerAddress: number;
  /** `/api/` requests a minute per user (unauthenticated: per client address); 0: no limit. */
  readonly restRateLimit: number;
  /** Rooms a minute one user (open mode: one client address) may create; 0: no limit. */
  readonly roomCreateLimit: number;
  /**
   * Which peers may set X-Forwarded-For / -Proto / -Host: none (false), every one (true), or
   * these addresses, CIDRs and proxy-addr names (Fastify's `trustProxy`).
   */
  readonly trustProxy: boolean | readonly string[];
  readonly maxFrameBytes: number;
  readonly maxMessageChars: number;
  readonly sendBufferLimit: number;
  readonly pingIntervalMs: number;
  readonly typingThrottleMs: number;
  readonly presenceBatchThreshold: number;
  readonly presenceDiffIntervalMs: number;
  readonly presenceHeartbeatMs: number;
  readonly presenceTtlMs: number;
  readonly streamMaxAgeMs: number;
  readonly natsRequestTimeoutMs: number;
  readonly natsConnectTimeoutMs: number;
  readonly shutdownTimeoutMs: number;
  /** How long a connection the server closes may take to read up to its close frame. */
  readonly closeGraceMs: number;
  readonly logLevel: string;
  /** Who a client is: built-in accounts, the operator's JWTs, or the name it gives (open). */
  readonly auth: AuthMode;
  readonly registration: RegistrationPolicy;
  /** SESSION_SECRET; undefined: embedded mode keeps a generated one in DATA_DIR/session.key. */
  readonly sessionSecret: Buffer | undefined;
  /** AUTH=jwt: the key tokens are checked with. */
  readonly jwt: JwtKey | undefined;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    readonly variable: string,
    detail: string,
  ) {
    super(`${variable}: ${detail}`);
  }
}

type Env = Readonly<Record<string, string | undefined>>;

const DURATION = /^(\d+)(ms|s|m|h)?$/;
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
const SIZE = /^(\d+)(b|kib|mib)?$/i;
const UNIT_BYTES = { b: 1, kib: 1024, mib: 1024 * 1024 } as const;

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw.trim()))
    throw new ConfigError(name, `expected a whole number, got "${raw}"`);
  const value = Number(raw.trim());
  if (value < min || value > max) {
    throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  }
  return value;
}

/** "10m", "30s", "1500ms", "2h"; a bare number is milliseconds. */
function duration(env: Env, name: string, fallbackMs: number, minMs: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallbackMs;
  const match = DURATION.exec(raw.trim());
  if (!match)
    throw new ConfigError(name, `expected a duration like 500ms, 30s, 10m or 2h, got "${raw}"`);
  const unit = (match[2] ?? 'ms') as keyof typeof UNIT_MS;
  const value = Number(match[1]) * UNIT_MS[unit];
  if (value < minMs) throw new ConfigError(name, `must be at least ${minMs} ms, got "${raw}"`);
  return value;
}

/** "1048576", "512KiB", "1MiB". */
function size(env: Env, name: string, fallback: number, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const match = SIZE.exec(raw.trim());
  if (!match)
    throw new ConfigError(name, `expected a size like 65536, 64KiB or 1MiB, got "${raw}"`);
  const unit = (match[2] ?? 'b').toLowerCase() as keyof typeof UNIT_BYTES;
  const value = Number(match[1]) * UNIT_BYTES[unit];
  if (value < min) throw new ConfigError(name, `must be at least ${min} bytes, got "${raw}"`);
  return value;
}

function natsUrl(env: Env): string | undefined {
  const raw = env.NATS_URL?.trim();
  if (!raw) return undefined;
  for (const part of raw.split(',')) {
    let url: URL;
    try {
      url = new URL(part.trim());
    } catch {
      throw new ConfigError('NATS_URL', `not a URL: "${part}"`);
    }
    if (!['nats:', 'tls:', 'ws:', 'wss:'].includes(url.protocol)) {
      throw new ConfigError('NATS_URL', `expected nats://host:port, got "${part}"`);
    }
  }
  return raw;
}

function origins(env: Env): string[] {
  const raw = env.ALLOWED_ORIGINS?.trim();
  if (!raw) return [];
  return raw.split(',').map((part) => {
    const trimmed = part.trim();
    let url: URL;
    try {
      url = new URL(trimmed);
    } catch {
      throw new ConfigError(
        'ALLOWED_ORIGINS',
        `not an origin (scheme://host[:port]): "${trimmed}"`,
      );
    }
    if (url.origin === 'null' || url.origin !== trimmed.replace(/\/$/, '')) {
      throw new ConfigError(
        'ALLOWED_ORIGINS',
        `not an origin (scheme://host[:port]): "${trimmed}"`,
      );
    }
    return url.origin;
  });
}

// proxy-addr's names for address ranges, as Fastify's trustProxy takes them
const PROXY_RANGES = ['loopback', 'linklocal', 'uniquelocal'];

/** An IP address, or one with a prefix length (`10.0.0.0/8`, `fd00::/8`). */
function isAddressOrCidr(text: string): boolean {
  const [address = '', prefix, ...rest] = text.split('/');
  const version = isIP(address);
  if (version === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (version === 4 ? 32 : 128);
}

function trustProxy(env: Env): boolean | readonly string[] {
  const raw = env.TRUST_PROXY?.trim();
  if (!raw || raw === 'false') return false;
  if (raw === 'true') return true;
  const entries = raw.split(',').map((entry) => entry.trim());
  for (const entry of entries) {
    if (!PROXY_RANGES.includes(entry) && !isAddressOrCidr(entry)) {
      throw new ConfigError(
        'TRUST_PROXY',
        `expected true, or proxy addresses and CIDRs (10.0.0.1, 10.0.0.0/8, loopback), got "${entry}"`,
      );
    }
  }
  return Object.freeze(entries);
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** A signing key shorter than this is refused (HMAC-SHA256's own size). */
export const MIN_SECRET_BYTES = 32;

function oneOf<T extends string>(env: Env, name: string, values: readonly T[], fallback: T): T {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  if (!(values as readonly string[]).includes(raw)) {
    throw new ConfigError(name, `expected one of ${values.join(', ')}, got "${raw}"`);
  }
  return raw as T;
}

function secret(env: Env, name: string): Buffer | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const bytes = Buffer.from(raw, 'utf8');
  if (bytes.length < MIN_SECRET_BYTES) {
    throw new ConfigError(
      name,
      `must be at least ${MIN_SECRET_BYTES} bytes (got ${bytes.length}); e.g. openssl rand -base64 48`,
    );
  }
  return bytes;
}

/** JWT_SECRET (HS256) or JWT_PUBLIC_KEY (a PEM file: RS256, ES256 or EdDSA by its type). */
function jwtKey(env: Env): JwtKey {
  const hmac = secret(env, 'JWT_SECRET');
  const file = env.JWT_PUBLIC_KEY?.trim();
  if (hmac && file) {
    throw new ConfigError('JWT_SECRET', 'set JWT_SECRET or JWT_PUBLIC_KEY, not both');
  }
  if (hmac) return { algorithm: 'HS256', secret: createSecretKey(hmac) };
  if (!file) {
    throw new ConfigError('JWT_SECRET', 'AUTH=jwt needs JWT_SECRET or JWT_PUBLIC_KEY');
  }
  let pem: string;
  try {
    pem = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError('JWT_PUBLIC_KEY', `cannot read "${file}" (${(error as Error).message})`);
  }
  if (pem.includes('PRIVATE KEY')) {
    throw new ConfigError('JWT_PUBLIC_KEY', `"${file}" holds a private key: give its public half`);
  }
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey(pem);
  } catch {
    throw new ConfigError('JWT_PUBLIC_KEY', `"${file}" is not a PEM public key`);
  }
  const details = publicKey.asymmetricKeyDetails;
  switch (publicKey.asymmetricKeyType) {
    case 'rsa':
      if ((details?.modulusLength ?? 0) < 2048) {
        throw new ConfigError('JWT_PUBLIC_KEY', 'an RSA key needs at least 2048 bits');
      }
      return { algorithm: 'RS256', publicKey };
    case 'ec':
      if (details?.namedCurve !== 'prime256v1') {
        throw new ConfigError('JWT_PUBLIC_KEY', 'an EC key must be on curve P-256 (ES256)');
      }
      return { algorithm: 'ES256', publicKey };
    case 'ed25519':
      return { algorithm: 'EdDSA', publicKey };
    default:
      throw new ConfigError(
        'JWT_PUBLIC_KEY',
        `a ${publicKey.asymmetricKeyType} key: expected RSA, EC P-256 or Ed25519`,
      );
  }
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || /^127\./.test(host) || host === '::1' || host === '[::1]';
}

/** The startup warning of AUTH=open on a network address, if it is one. */
export function openModeWarning(config: Config): string | undefined {
  if (config.auth !== 'open' || isLoopback(config.host)) return undefined;
  return (
    `AUTH=open and HOST=${config.host}: anyone who reaches this port can use any name. ` +
    'Set AUTH=accounts (or jwt) unless this network is trusted'
  );
}

export function loadConfig(env: Env = process.env): Config {
  const logLevel = env.LOG_LEVEL?.trim() || 'info';
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError(
      'LOG_LEVEL',
      `expected one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`,
    );
  }
  const presenceHeartbeatMs = duration(env, 'PRESENCE_HEARTBEAT', 5000, 50);
  const presenceTtlMs = duration(env, 'PRESENCE_TTL', 15_000, 100);
  if (presenceTtlMs <= presenceHeartbeatMs) {
    throw new ConfigError('PRESENCE_TTL', 'must be longer than PRESENCE_HEARTBEAT');
  }
  const dedupeWindowMs = duration(env, 'DEDUPE_WINDOW', 10 * 60_000, 1000);
  const streamMaxAgeMs = duration(env, 'STREAM_MAX_AGE', 7 * 24 * 3_600_000, 60_000);
  if (streamMaxAgeMs < dedupeWindowMs) {
    throw new ConfigError('STREAM_MAX_AGE', 'must be at least DEDUPE_WINDOW');
  }
  const shutdownTimeoutMs = duration(env, 'SHUTDOWN_TIMEOUT', 10_000, 100);
  const closeGraceMs = duration(env, 'CLOSE_GRACE', 3000, 100);
  if (closeGraceMs >= shutdownTimeoutMs) {
    throw new ConfigError('CLOSE_GRACE', 'must be shorter than SHUTDOWN_TIMEOUT');
  }
  const natsUrlValue = natsUrl(env);
  const auth = oneOf<AuthMode>(env, 'AUTH', ['accounts', 'jwt', 'open'], 'accounts');
  const sessionSecret = secret(env, 'SESSION_SECRET');
  if (auth !== 'open' && natsUrlValue !== undefined && sessionSecret === undefined) {
    // every gateway must check the cookies any other gateway signed: one key, given to all
    throw new ConfigError(
      'SESSION_SECRET',
      `NATS mode with AUTH=${auth} needs SESSION_SECRET, the same on every gateway and ` +
        'history service (e.g. openssl rand -base64 48)',
    );
  }
  return Object.freeze({
    port: integer(env, 'PORT', 8000, 0, 65535),
    host: env.HOST?.trim() || '0.0.0.0',
    natsUrl: natsUrlValue,
    dataDir: path.resolve(env.DATA_DIR?.trim() || './data'),
    historyReplay: integer(env, 'HISTORY_REPLAY', 50, 0, 1000),
    rateLimit: integer(env, 'RATE_LIMIT', 20, 0, 1_000_000),
    dedupeWindowMs,
    editWindowMs: duration(env, 'EDIT_WINDOW', 24 * 3_600_000, 0),
    uploadMaxBytes: size(env, 'UPLOAD_MAX_BYTES', 25 * 1024 * 1024, 1),
    uploadRateLimit: integer(env, 'UPLOAD_RATE_LIMIT', 10, 0, 1_000_000),
    uploadUnsentTtlMs: duration(env, 'UPLOAD_UNSENT_TTL', 3_600_000, 1000),
    allowedOrigins: Object.freeze(origins(env)),
    connectionsPerAddress: integer(env, 'CONNECTIONS_PER_ADDRESS', 1000, 0, 1_000_000),
    restRateLimit: integer(env, 'REST_RATE_LIMIT', 600, 0, 1_000_000),
    roomCreateLimit: integer(env, 'ROOM_CREATE_LIMIT', 10, 0, 1_000_000),
    trustProxy: trustProxy(env),
    maxFrameBytes: size(env, 'MAX_FRAME_BYTES', 64 * 1024, 1024),
    maxMessageChars: integer(env, 'MAX_MESSAGE_CHARS', 4000, 1, 100_000),
    sendBufferLimit: size(env, 'SEND_BUFFER_LIMIT', 1024 * 1024, 1024),
    pingIntervalMs: duration(env, 'PING_INTERVAL', 30_000, 50),
    typingThrottleMs: duration(env, 'TYPING_THROTTLE', 1000, 0),
    presenceBatchThreshold: integer(env, 'PRESENCE_BATCH_THRESHOLD', 100, 0, 1_000_000),
    presenceDiffIntervalMs: duration(env, 'PRESENCE_DIFF_INTERVAL', 500, 10),
    presenceHeartbeatMs,
    presenceTtlMs,
    streamMaxAgeMs,
    natsRequestTimeoutMs: duration(env, 'NATS_REQUEST_TIMEOUT', 5000, 100),
    natsConnectTimeoutMs: duration(env, 'NATS_CONNECT_TIMEOUT', 30_000, 0),
    shutdownTimeoutMs,
    closeGraceMs,
    logLevel,
    auth,
    registration: oneOf<RegistrationPolicy>(
      env,
      'REGISTRATION',
      ['invite', 'open', 'closed'],
      'invite',
    ),
    sessionSecret,
    jwt: auth === 'jwt' ? jwtKey(env) : undefined,
  });
}
