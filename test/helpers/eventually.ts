/**
 * Polls `check` until `ok` holds: for conditions another process reaches on its own time (a
 * history service catching up, a gateway reconnecting), where there is no event to await.
 */
export async function eventually<T>(
  check: () => Promise<T> | T,
  ok: (value: T) => boolean,
  ms = 15_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (ok(value)) return value;
    if (Date.now() > deadline) {
      throw new Error(`condition not met in ${ms} ms: ${JSON.stringify(value).slice(0, 300)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
