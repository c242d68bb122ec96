/**
 * Password hashing: scrypt (memory-hard) through Node's libuv thread pool, so a login never
 * blocks the event loop. A hash is `scrypt$N$r$p$salt$hash` (base64), so that the cost can be
 * raised later without invalidating stored hashes. A password is never logged or stored.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import type { ScryptOptions } from 'node:crypto';

/** N = 2^15, r = 8: 32 MiB and about 65 ms a hash on the development machine (README). */
const COST = { N: 2 ** 15, r: 8, p: 1 };
const KEY_BYTES = 32;
const SALT_BYTES = 16;

function derive(password: string, salt: Buffer, cost: typeof COST): Promise<Buffer> {
  // scrypt needs 128 * N * r bytes; Node's default cap (32 MiB) is exactly that, so leave room
  const options: ScryptOptions = { ...cost, maxmem: 256 * cost.N * cost.r };
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, KEY_BYTES, options, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, COST);
  const { N, r, p } = COST;
  return ['scrypt', N, r, p, salt.toString('base64'), key.toString('base64')].join('$');
}

/** True when `password` is the one `encoded` was made from (compared in constant time). */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = encoded.split('$');
  if (scheme !== 'scrypt' || salt === undefined || hash === undefined) return false;
  const expected = Buffer.from(hash, 'base64');
  const key = await derive(password, Buffer.from(salt, 'base64'), {
    N: Number(n),
    r: Number(r),
    p: Number(p),
  });
  return key.length === expected.length && timingSafeEqual(key, expected);
}

let dummy: Promise<string> | undefined;

/**
 * Spends the time a real verification takes, for a user that does not exist: an unknown name
 * and a wrong password get the same answer in about the same time.
 */
export async function verifyDummy(password: string): Promise<false> {
  await verifyPassword(password, await prepareDummy());
  return false;
}

/** Makes the dummy hash (once), so that the first unknown user costs one scrypt like the rest. */
export function prepareDummy(): Promise<string> {
  dummy ??= hashPassword(randomBytes(SALT_BYTES).toString('base64'));
  return dummy;
}
