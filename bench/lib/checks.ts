/** Checks of what the clients received: every acked message once, in id order. */

/** Checks one client's received ids against the expected sequence; returns problems found. */
export function checkSequence(
  who: string,
  got: number[],
  expected: number[],
  expectedSet: Set<number>,
): string[] {
  const seen = new Set<number>();
  let duplicates = 0;
  let outOfOrder = 0;
  let unknown = 0;
  let previous = 0;
  for (const id of got) {
    if (seen.has(id)) duplicates++;
    seen.add(id);
    if (id <= previous) outOfOrder++;
    previous = id;
    if (!expectedSet.has(id)) unknown++;
  }
  const missing = expected.filter((id) => !seen.has(id));
  const problems: string[] = [];
  if (duplicates) problems.push(`${who}: ${duplicates} duplicate message(s)`);
  if (outOfOrder) problems.push(`${who}: ${outOfOrder} message(s) out of id order`);
  if (missing.length) {
    problems.push(
      `${who}: ${missing.length} acked message(s) missing (first ids ${missing.slice(0, 5).join(', ')})`,
    );
  }
  if (unknown) problems.push(`${who}: ${unknown} message(s) whose id no ack named`);
  if (!problems.length && got.length !== expected.length) {
    problems.push(`${who}: got ${got.length} messages, expected ${expected.length}`);
  }
  return problems;
}

/** A problem for each client the server closed (or that closed) before the scenario ended. */
export function closedClients(
  clients: Array<{ username: string; closeCode: number | undefined; closeReason: string }>,
): string[] {
  return clients
    .filter((c) => c.closeCode !== undefined)
    .map((c) => `${c.username}: closed ${c.closeCode} ${c.closeReason}`);
}
