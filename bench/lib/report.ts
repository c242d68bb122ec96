/** A scenario's findings and how they are printed: its own section, then one summary table. */

export type Row = [metric: string, value: string];

export interface Result {
  scenario: string;
  rows: Row[];
  problems: string[];
  notes: string[];
}

export function newResult(scenario: string): Result {
  return { scenario, rows: [], problems: [], notes: [] };
}

/** At most `limit` problems, and how many more there were. */
export function summarizeProblems(problems: string[], limit = 8): string[] {
  if (problems.length <= limit) return problems;
  return [...problems.slice(0, limit), `… and ${problems.length - limit} more`];
}

/** Every row, problem and note of one scenario, for its section of the output. */
export function printResult(result: Result): void {
  for (const [metric, value] of result.rows) console.log(`  ${metric}: ${value}`);
  for (const problem of result.problems) console.log(`  !!! PROBLEM: ${problem}`);
  for (const note of result.notes) console.log(`  note: ${note}`);
}

/** The summary table's rows: the metrics `summary` names, and each scenario's problem count. */
export function summaryTable(
  results: Result[],
  summary: (scenario: string) => ReadonlySet<string>,
): string[] {
  const lines = ['| scenario | metric | value |', '| --- | --- | --- |'];
  for (const result of results) {
    const wanted = summary(result.scenario);
    for (const [metric, value] of result.rows) {
      if (wanted.has(metric)) lines.push(`| ${result.scenario} | ${metric} | ${value} |`);
    }
    const count = result.problems.length;
    lines.push(
      `| ${result.scenario} | problems | ${count ? `**${count}** (see above)` : 'none'} |`,
    );
  }
  return lines;
}

/** Lists every problem of every scenario at the end; sets a failing exit code if there are any. */
export function printProblems(results: Result[]): void {
  const problems = results.flatMap((r) => r.problems.map((p) => `${r.scenario}: ${p}`));
  if (!problems.length) return;
  console.log(`\n!!! ${problems.length} PROBLEM(S):`);
  for (const problem of problems) console.log(`!!! ${problem}`);
  process.exitCode = 1;
}
