import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export const SESSION_KEY_FILE = 'session.key';
const MIN_KEY_BYTES = 32;

export class SessionKeyError extends Error {
  override name = 'SessionKeyError';
}

/**
 * The key that signs sessions and tokens in embedded mode when SESSION_SECRET is unset: 48 random
 * bytes (base64url), made at the first start and kept in DATA_DIR/session.key (mode 0600), so
 * that sessions outlive a restart. Deleting the file signs everyone out.
 */
export function loadOrCreateSessionKey(dataDir: string): Buffer {
  const file = path.join(dataDir, SESSION_KEY_FILE);
  try {
    // `wx`: two processes starting at once do not overwrite each other's key
    fs.writeFileSync(file, randomBytes(48).toString('base64url') + '\n', {
      flag: 'wx',
      mode: 0o600,
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new SessionKeyError(`"${file}" cannot be written (${(error as Error).message})`);
    }
  }
  let key: Buffer;
  try {
    key = Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'utf8');
  } catch (error) {
    throw new SessionKeyError(`"${file}" cannot be read (${(error as Error).message})`);
  }
  if (key.length < MIN_KEY_BYTES) {
    throw new SessionKeyError(`"${file}" holds fewer than ${MIN_KEY_BYTES} bytes`);
  }
  return key;
}
