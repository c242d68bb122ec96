/** Settings from the command line and the environment; a bad one stops the bench with exit 2. */

/** Prints `message` and ends the bench as a usage error. */
export function usageError(message: string): never {
  console.error(`bench: ${message}`);
  process.exit(2);
}

/** A positive whole number from the environment, or `fallback`; anything else stops the bench. */
export function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) {
    usageError(`${name} must be a positive whole number, got "${raw}"`);
  }
  return value;
}
