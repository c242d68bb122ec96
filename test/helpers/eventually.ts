/**
 * Polls `check` until `ok` holds: for conditions another process reaches on its own time (a
 * history service catching up, a gateway reconnecting), where there is no event to await. A
 * check that throws counts as not yet; the last error is reported at the deadline.
 */
export async function eventually<T>(
  check: () => Promise<T> | T,
  ok: (value: T) => boolean,
  ms = 15_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    let last: string;
    try {
      const value = await check();
      if (ok(value)) return value;
      last = JSON.stringify(value).slice(0, 300);
    } catch (error) {
      last = String(error);
    }
    if (Date.now() > deadline) throw new Error(`condition not met in ${ms} ms; last: ${last}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
