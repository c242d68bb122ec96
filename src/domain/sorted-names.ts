/**
 * "Sorted" everywhere means by Unicode code point. JavaScript's default order compares UTF-16
 * units, which puts a name above U+FFFF (a surrogate pair, units D800-DFFF) before one in
 * U+E000-U+FFFF; this order does not.
 */
export function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

/** Moves surrogates (code points above U+FFFF) after U+E000-U+FFFF, keeping all else in place. */
function codePointRank(unit: number): number {
  if (unit < 0xd800) return unit;
  return unit >= 0xe000 ? unit - 0x800 : unit + 0x2000;
}

/**
 * A set of names kept in code-point order, so that a page of it costs a binary search and a
 * slice, and a change costs a binary search and one move of the names after it: never a sort.
 */
export class SortedNames {
  private readonly names: string[] = [];

  get size(): number {
    return this.names.length;
  }

  /** Adds a name; false when it was there already. */
  add(name: string): boolean {
    const index = this.firstNotBefore(name);
    if (this.names[index] === name) return false;
    this.names.splice(index, 0, name);
    return true;
  }

  /** Removes a name; false when it was not there. */
  delete(name: string): boolean {
    const index = this.firstNotBefore(name);
    if (this.names[index] !== name) return false;
    this.names.splice(index, 1);
    return true;
  }

  /** The first `limit` names that sort after `after` (from the first name without it). */
  page(after: string | undefined, limit: number): string[] {
    let start = 0;
    if (after !== undefined) {
      start = this.firstNotBefore(after);
      if (this.names[start] === after) start++;
    }
    return this.names.slice(start, start + limit);
  }

  all(): string[] {
    return [...this.names];
  }

  /** The index of the first name that does not sort before `name` (binary search). */
  private firstNotBefore(name: string): number {
    let low = 0;
    let high = this.names.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (compareCodePoints(this.names[middle]!, name) < 0) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}
