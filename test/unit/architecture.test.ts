import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The layout is the architecture (README, "Architecture"): each layer imports only the layers
 * below it, and no file takes part in an import circle. This test reads every import of every
 * source file, type-only ones included, so a new arrow up the layers fails here first.
 */

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const src = join(root, 'src');

type Layer =
  | 'kernel'
  | 'config'
  | 'store'
  | 'nats'
  | 'bus-ports'
  | 'bus'
  | 'history'
  | 'gateway'
  | 'wiring'
  | 'web';

/** What each layer may import besides itself. */
const ALLOWED: Record<Layer, readonly Layer[]> = {
  kernel: [],
  config: ['kernel'],
  store: ['kernel'],
  nats: ['kernel'],
  'bus-ports': ['kernel'],
  bus: ['kernel', 'bus-ports', 'nats'],
  history: ['kernel', 'bus-ports', 'nats', 'store'],
  gateway: ['kernel', 'config', 'bus-ports'],
  wiring: ['kernel', 'config', 'store', 'nats', 'bus-ports', 'bus', 'history', 'gateway'],
  web: [],
};

const KERNEL = new Set(['protocol.ts', 'errors.ts', 'internal-errors.ts']);
const WIRING = new Set(['main.ts', 'compose.ts']);

function layerOf(file: string): Layer {
  const path = relative(src, file).split('\\').join('/');
  const [top] = path.split('/');
  if (path === 'bus/types.ts') return 'bus-ports';
  if (KERNEL.has(path) || top === 'domain') return 'kernel';
  if (path === 'config.ts') return 'config';
  if (WIRING.has(path)) return 'wiring';
  if (top === 'store' || top === 'nats' || top === 'bus' || top === 'history') return top;
  if (top === 'gateway' || top === 'web') return top;
  throw new Error(`src/${path} is in no layer: add its folder to the architecture test`);
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

const IMPORT =
  /(?:^|\n)\s*(?:import|export)\s(?:[^'";]*?\sfrom\s*)?['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

/** The project files a file imports (packages and node: built-ins are not edges). */
function importsOf(file: string): string[] {
  // Block comments go first: a JSDoc type reference on the page is not an import.
  const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
  const targets: string[] = [];
  for (const match of text.matchAll(IMPORT)) {
    const specifier = match[1] ?? match[2];
    if (specifier?.startsWith('.')) targets.push(resolve(dirname(file), specifier));
  }
  return targets;
}

const files = filesUnder(src).filter((file) => /\.(ts|js|mjs)$/.test(file));
const graph = new Map(files.map((file) => [file, importsOf(file)]));
const name = (file: string): string => relative(root, file).split('\\').join('/');

/** Strongly connected components of more than one file, or a file importing itself (Tarjan). */
function circles(): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (file: string): void => {
    index.set(file, next);
    low.set(file, next);
    next += 1;
    stack.push(file);
    onStack.add(file);
    for (const target of graph.get(file) ?? []) {
      if (!graph.has(target)) continue;
      if (!index.has(target)) {
        visit(target);
        low.set(file, Math.min(low.get(file)!, low.get(target)!));
      } else if (onStack.has(target)) {
        low.set(file, Math.min(low.get(file)!, index.get(target)!));
      }
    }
    if (low.get(file) !== index.get(file)) return;
    const component: string[] = [];
    let member: string | undefined;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(name(member));
    } while (member !== file);
    if (component.length > 1 || graph.get(file)?.includes(file)) found.push(component.sort());
  };
  for (const file of files) if (!index.has(file)) visit(file);
  return found;
}

describe('architecture', () => {
  it('finds the source files and their imports', () => {
    // Guards the checks below against passing on an empty graph or a broken import pattern.
    expect(files.length).toBeGreaterThan(30);
    expect(graph.get(join(src, 'main.ts'))).toContain(join(src, 'compose.ts'));
  });

  it('resolves every relative import to a file that exists', () => {
    const missing = [...graph].flatMap(([file, targets]) =>
      targets
        .filter((target) => !graph.has(target))
        .map((target) => `${name(file)} → ${name(target)}`),
    );
    expect(missing).toEqual([]);
  });

  it('imports only from the same layer or a layer below', () => {
    const upward = [...graph].flatMap(([file, targets]) => {
      const from = layerOf(file);
      return targets
        .filter((target) => graph.has(target))
        .filter((target) => {
          const to = layerOf(target);
          return to !== from && !ALLOWED[from].includes(to);
        })
        .map((target) => `${name(file)} (${from}) → ${name(target)} (${layerOf(target)})`);
    });
    expect(upward).toEqual([]);
  });

  it('has no import circle', () => {
    expect(circles()).toEqual([]);
  });

  it('keeps every file under src/ and bench/ within 400 lines', () => {
    const all = [src, join(root, 'bench')].flatMap(filesUnder);
    const long = all
      .map((file) => ({
        file: name(file),
        lines: readFileSync(file, 'utf8').trimEnd().split('\n').length,
      }))
      .filter(({ lines }) => lines > 400);
    expect(long).toEqual([]);
  });
});
