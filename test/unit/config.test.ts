import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';

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
