import { generateKeyPairSync } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, openModeWarning } from '../../src/config.ts';
import { tempDir } from '../helpers/chat-server.ts';

function pemFile(key: KeyObject, type: 'spki' | 'pkcs8' = 'spki'): string {
  const file = path.join(tempDir(), 'key.pem');
  fs.writeFileSync(file, key.export({ type, format: 'pem' }));
  return file;
}

describe('configuration', () => {
  it('has the contract defaults and is frozen', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 8000,
      host: '0.0.0.0',
      natsUrl: undefined,
      historyReplay: 50,
      rateLimit: 20,
      dedupeWindowMs: 600_000,
      allowedOrigins: [],
      maxFrameBytes: 65_536,
      maxMessageChars: 4000,
      connectionsPerAddress: 1000,
      natsConnectTimeoutMs: 30_000,
      restRateLimit: 600,
      roomCreateLimit: 10,
      trustProxy: false,
    });
    expect(config.dataDir).toMatch(/\/data$/);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reads durations, sizes, origins and turns the rate limit off with 0', () => {
    const config = loadConfig({
      DEDUPE_WINDOW: '30s',
      PING_INTERVAL: '1500',
      SEND_BUFFER_LIMIT: '2MiB',
      MAX_FRAME_BYTES: '128KiB',
      ALLOWED_ORIGINS: 'https://chat.example.com, http://localhost:3000',
      RATE_LIMIT: '0',
      NATS_URL: 'nats://127.0.0.1:4222',
      AUTH: 'open',
      CONNECTIONS_PER_ADDRESS: '0',
      CLOSE_GRACE: '500ms',
      NATS_CONNECT_TIMEOUT: '0',
    });
    expect(config.connectionsPerAddress).toBe(0);
    expect(config.closeGraceMs).toBe(500);
    expect(loadConfig({}).closeGraceMs).toBe(3000);
    expect(config.natsConnectTimeoutMs).toBe(0);
    expect(config.dedupeWindowMs).toBe(30_000);
    expect(config.pingIntervalMs).toBe(1500);
    expect(config.sendBufferLimit).toBe(2 * 1024 * 1024);
    expect(config.maxFrameBytes).toBe(128 * 1024);
    expect(config.allowedOrigins).toEqual(['https://chat.example.com', 'http://localhost:3000']);
    expect(config.rateLimit).toBe(0);
    expect(config.natsUrl).toBe('nats://127.0.0.1:4222');
  });

  it('reads the REST and room-creation limits, 0 turning each off', () => {
    const config = loadConfig({ REST_RATE_LIMIT: '0', ROOM_CREATE_LIMIT: '3' });
    expect(config.restRateLimit).toBe(0);
    expect(config.roomCreateLimit).toBe(3);
    expect(loadConfig({ ROOM_CREATE_LIMIT: '0' }).roomCreateLimit).toBe(0);
  });

  it('reads the upload limits: 25 MiB, 10 a minute, unsent kept 1 h; a bad value names its variable', () => {
    expect(loadConfig({})).toMatchObject({
      uploadMaxBytes: 26_214_400,
      uploadRateLimit: 10,
      uploadUnsentTtlMs: 3_600_000,
    });
    expect(
      loadConfig({ UPLOAD_MAX_BYTES: '2MiB', UPLOAD_RATE_LIMIT: '0', UPLOAD_UNSENT_TTL: '5s' }),
    ).toMatchObject({ uploadMaxBytes: 2_097_152, uploadRateLimit: 0, uploadUnsentTtlMs: 5000 });
    for (const [name, value] of [
      ['UPLOAD_MAX_BYTES', 'lots'],
      ['UPLOAD_MAX_BYTES', '0'],
      ['UPLOAD_RATE_LIMIT', '-1'],
      ['UPLOAD_UNSENT_TTL', 'soon'],
    ] as const) {
      expect(() => loadConfig({ [name]: value }), name).toThrow(ConfigError);
      expect(() => loadConfig({ [name]: value }), name).toThrow(name);
    }
  });

  it('reads TRUST_PROXY as true, or a list of addresses, CIDRs and range names', () => {
    expect(loadConfig({ TRUST_PROXY: 'true' }).trustProxy).toBe(true);
    expect(loadConfig({ TRUST_PROXY: 'false' }).trustProxy).toBe(false);
    expect(
      loadConfig({ TRUST_PROXY: '10.0.0.1, 192.168.0.0/16, fd00::/8, ::1, loopback' }).trustProxy,
    ).toEqual(['10.0.0.1', '192.168.0.0/16', 'fd00::/8', '::1', 'loopback']);
  });

  it.each([
    ['PORT', '70000'],
    ['PORT', '8o'],
    ['HISTORY_REPLAY', '1001'],
    ['RATE_LIMIT', '1.5'],
    ['DEDUPE_WINDOW', '10 minutes'],
    ['DEDUPE_WINDOW', '10ms'],
    ['MAX_FRAME_BYTES', '12'],
    ['NATS_URL', 'localhost:4222'],
    ['ALLOWED_ORIGINS', 'https://example.com/path'],
    ['LOG_LEVEL', 'loud'],
    ['CONNECTIONS_PER_ADDRESS', '-1'],
    ['CONNECTIONS_PER_ADDRESS', '1e3'],
    ['CONNECTIONS_PER_ADDRESS', 'many'],
    ['CLOSE_GRACE', 'soon'],
    ['CLOSE_GRACE', '10s'],
    ['NATS_CONNECT_TIMEOUT', 'soon'],
    ['AUTH', 'password'],
    ['REGISTRATION', 'maybe'],
    ['SESSION_SECRET', 'too short'],
    ['REST_RATE_LIMIT', '1.5'],
    ['REST_RATE_LIMIT', '-1'],
    ['ROOM_CREATE_LIMIT', 'ten'],
    ['TRUST_PROXY', 'yes'],
    ['TRUST_PROXY', 'proxy.example'],
    ['TRUST_PROXY', '10.0.0.0/33'],
    ['TRUST_PROXY', '10.0.0.1,'],
    ['TRUST_PROXY', 'fd00::/129'],
  ])('stops on %s=%s with an error naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`^${name}: `));
  });
});

describe('identity and access configuration', () => {
  const secret = 'a secret of at least thirty-two bytes!';

  it('defaults to AUTH=accounts and REGISTRATION=invite, with no secret', () => {
    expect(loadConfig({})).toMatchObject({
      auth: 'accounts',
      registration: 'invite',
      sessionSecret: undefined,
      jwt: undefined,
    });
    const config = loadConfig({ AUTH: 'accounts', REGISTRATION: 'closed', SESSION_SECRET: secret });
    expect(config).toMatchObject({ auth: 'accounts', registration: 'closed' });
    expect(config.sessionSecret?.toString()).toBe(secret);
  });

  it('needs SESSION_SECRET in NATS mode outside open mode, naming it', () => {
    const nats = { NATS_URL: 'nats://127.0.0.1:4222' };
    for (const auth of ['accounts', 'jwt']) {
      const env = { ...nats, AUTH: auth, JWT_SECRET: secret };
      expect(() => loadConfig(env)).toThrow(
        new RegExp(`^SESSION_SECRET: NATS mode with AUTH=${auth} needs SESSION_SECRET`),
      );
      expect(loadConfig({ ...env, SESSION_SECRET: secret })).toMatchObject({ auth });
    }
    expect(loadConfig({ ...nats, AUTH: 'open' }).auth).toBe('open');
  });

  it('takes JWT_SECRET, or a public key whose type names the algorithm', () => {
    expect(loadConfig({ AUTH: 'jwt', JWT_SECRET: secret }).jwt?.algorithm).toBe('HS256');
    for (const [algorithm, pair] of [
      ['RS256', generateKeyPairSync('rsa', { modulusLength: 2048 })],
      ['ES256', generateKeyPairSync('ec', { namedCurve: 'prime256v1' })],
      ['EdDSA', generateKeyPairSync('ed25519')],
    ] as const) {
      const file = pemFile(pair.publicKey);
      expect(loadConfig({ AUTH: 'jwt', JWT_PUBLIC_KEY: file }).jwt?.algorithm).toBe(algorithm);
    }
    // outside jwt mode they are not read
    expect(loadConfig({ JWT_PUBLIC_KEY: '/no/such/file' }).jwt).toBeUndefined();
  });

  it.each([
    ['JWT_SECRET', {}],
    ['JWT_SECRET', { JWT_SECRET: 'short' }],
    ['JWT_SECRET', { JWT_SECRET: secret, JWT_PUBLIC_KEY: '/some/key.pem' }],
    ['JWT_PUBLIC_KEY', { JWT_PUBLIC_KEY: '/no/such/file.pem' }],
    ['JWT_PUBLIC_KEY', { JWT_PUBLIC_KEY: 'NOT_A_PEM' }],
    ['JWT_PUBLIC_KEY', { JWT_PUBLIC_KEY: 'PRIVATE' }],
    ['JWT_PUBLIC_KEY', { JWT_PUBLIC_KEY: 'SMALL_RSA' }],
    ['JWT_PUBLIC_KEY', { JWT_PUBLIC_KEY: 'P384' }],
  ])('stops AUTH=jwt naming %s for %j', (name, env: Record<string, string>) => {
    const files: Record<string, () => string> = {
      NOT_A_PEM: () => {
        const file = path.join(tempDir(), 'key.pem');
        fs.writeFileSync(file, 'hello');
        return file;
      },
      PRIVATE: () => pemFile(generateKeyPairSync('ed25519').privateKey, 'pkcs8'),
      SMALL_RSA: () => pemFile(generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey),
      P384: () => pemFile(generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).publicKey),
    };
    const key = env.JWT_PUBLIC_KEY;
    const resolved = { ...env, ...(key && files[key] ? { JWT_PUBLIC_KEY: files[key]() } : {}) };
    expect(() => loadConfig({ AUTH: 'jwt', ...resolved })).toThrow(ConfigError);
    expect(() => loadConfig({ AUTH: 'jwt', ...resolved })).toThrow(new RegExp(`^${name}: `));
  });

  it('warns about AUTH=open only when HOST is not a loopback address', () => {
    expect(openModeWarning(loadConfig({ AUTH: 'open' }))).toMatch(/AUTH=open and HOST=0\.0\.0\.0/);
    expect(openModeWarning(loadConfig({ AUTH: 'open', HOST: '192.168.1.5' }))).toBeDefined();
    for (const host of ['127.0.0.1', 'localhost', '::1']) {
      expect(openModeWarning(loadConfig({ AUTH: 'open', HOST: host })), host).toBeUndefined();
    }
    expect(openModeWarning(loadConfig({}))).toBeUndefined();
  });
});
