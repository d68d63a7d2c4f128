import { describe, expect, it } from 'vitest';
import { requireNativeAddon } from './native-helpers.js';

const addon = requireNativeAddon();
const f = (n: number) => new Float32Array(n);

describe('native layer norm: arguments', () => {
  it('throws a RangeError naming the argument for short or mistyped arrays, never reads past them', () => {
    // rows 2, cols 3: x, out, xhat, dy, dx need 6; gamma, beta, dgamma, dbeta 3; rstd 2.
    expect(() => addon.layerNormForward(f(5), f(3), f(3), f(6), f(6), f(2), 2, 3, 1e-5)).toThrow(
      /x holds 5 elements, needs at least 6/,
    );
    expect(() => addon.layerNormForward(f(6), f(2), f(3), f(6), f(6), f(2), 2, 3, 1e-5)).toThrow(
      /gamma holds 2/,
    );
    expect(() => addon.layerNormForward(f(6), f(3), f(3), f(6), f(6), f(1), 2, 3, 1e-5)).toThrow(
      /rstd holds 1/,
    );
    expect(() =>
      addon.layerNormForward(
        f(6),
        f(3),
        new Int32Array(3) as unknown as Float32Array,
        f(6),
        f(6),
        f(2),
        2,
        3,
        1e-5,
      ),
    ).toThrow(/beta must be a Float32Array/);
    expect(() => addon.layerNormForward(f(6), f(3), f(3), f(6), f(6), f(2), 2, 3, Number.NaN)).toThrow(
      /eps must be a finite number >= 0/,
    );
    expect(() => addon.layerNormBackward(f(6), f(6), f(2), f(3), f(6), f(2), f(3), 2, 3)).toThrow(
      /dgamma holds 2/,
    );
    expect(() => addon.layerNormBackward(f(6), f(5), f(2), f(3), f(6), f(3), f(3), 2, 3)).toThrow(
      /xhat holds 5/,
    );
  });

  it('zero rows or zero columns write nothing', () => {
    const out = Float32Array.of(7);
    addon.layerNormForward(f(0), f(0), f(0), out, f(0), f(4), 4, 0, 1e-5);
    addon.layerNormForward(f(0), f(3), f(3), out, f(0), f(0), 0, 3, 1e-5);
    expect(out[0]).toBe(7);
  });

  it('a constant row normalises to beta (variance 0 is held off by epsilon)', () => {
    const out = f(4);
    const xhat = f(4);
    const rstd = f(1);
    addon.layerNormForward(
      Float32Array.of(3, 3, 3, 3),
      f(4).fill(2),
      Float32Array.of(1, 2, 3, 4),
      out,
      xhat,
      rstd,
      1,
      4,
      1e-5,
    );
    expect(Array.from(out)).toEqual([1, 2, 3, 4]);
    expect(rstd[0]).toBeCloseTo(1 / Math.sqrt(1e-5), 0);
  });
});
