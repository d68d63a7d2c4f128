import { expect } from 'vitest';

/** Element-wise `toBeCloseTo` of two equally long number lists (nested rows are flattened). */
export function expectAllClose(
  actual: ArrayLike<number> | readonly ArrayLike<number>[],
  expected: ArrayLike<number> | readonly ArrayLike<number>[],
  digits: number,
): void {
  const flat = (v: ArrayLike<number> | readonly ArrayLike<number>[]): number[] =>
    Array.from(v as ArrayLike<number | ArrayLike<number>>).flatMap((e) =>
      typeof e === 'number' ? [e] : Array.from(e),
    );
  const a = flat(actual);
  const e = flat(expected);
  expect(a).toHaveLength(e.length);
  for (let i = 0; i < a.length; i++) expect(a[i]).toBeCloseTo(e[i] ?? Number.NaN, digits);
}
