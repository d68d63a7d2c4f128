import { describe, expect, it } from 'vitest';
import { PeerConfigError, PeerShapeError } from '../../src/errors/peer-error.js';
import { activate, activateGrad } from '../../src/kernels/activation.js';
import type { ActivationCode, PeerKernels } from '../../src/kernels/peer-kernels.js';
import { createReferenceKernels } from '../../src/kernels/reference-kernels.js';
import { createSimdKernels } from '../../src/kernels/simd-kernels.js';
import { createRandom } from '../../src/util/random.js';
import { type ExpertCase, makeCase, moveToHeap, runBackward, runForward } from './experts-case.js';
import { between, expectClose, expectSame } from './kernel-helpers.js';
import { requireNativeKernels } from './native-helpers.js';

const reference = createReferenceKernels();
const simd = createSimdKernels();
const native = requireNativeKernels();
const nativeTwoThreads = requireNativeKernels(2);

describe('expertsForward / expertsBackward', () => {
  const rng = createRandom(3);
  const shapes: [tokens: number, slots: number, d: number, numExperts: number][] = [
    [1, 1, 4, 1],
    [2, 3, 3, 5],
    [70, 128, 256, 700],
    [5, 7, 5, 9],
  ];
  for (const d of [4, 8, 64, 256]) {
    for (let i = 0; i < 4; i++)
      shapes.push([between(rng, 1, 70), between(rng, 1, 128), d, between(rng, 1, 400)]);
  }
  const cases = shapes.flatMap(([tokens, slots, d, n]) =>
    ([0, 1] as const).map((activation) => [tokens, slots, d, n, activation] as const),
  );

  it.each(cases)(
    'tokens %i slots %i d %i experts %i act %i: SIMD and native match reference',
    (tokens, slots, d, n, act) => {
      const c = makeCase(rng, { tokens, slots, d, numExperts: n, activation: act });
      const ref = runForward(reference, c);
      // Same preact into every backward, so act/act' agree exactly and only the w dot products differ.
      const back = { ...c, preact: ref.preact };
      const rb = runBackward(reference, back);
      for (const kernels of [simd, native]) {
        const got = runForward(kernels, c);
        // Dot products: reference sums in float64, the kernels in float32 lanes; errors grow like sqrt(d) ulps.
        const tol = 2e-6 * Math.sqrt(d);
        expectClose(got.preact, ref.preact, tol, `${kernels.name} preact`);
        expectClose(got.out, ref.out, tol * 4, `${kernels.name} out`);
        const gb = runBackward(kernels, back);
        expectClose(gb.coefV, rb.coefV, 1e-7, `${kernels.name} coefV`);
        expectClose(gb.dgates, rb.dgates, tol, `${kernels.name} dgates`);
        expectClose(gb.coefU, rb.coefU, tol, `${kernels.name} coefU`);
        expectClose(gb.dx, rb.dx, tol * 4, `${kernels.name} dx`);
      }
    },
  );

  it.each([0, 1] as const)(
    'activation %i and its derivative match the JS formula to 1e-6 (one-hot tables)',
    (act) => {
      // U row 0 = e0 and x = (a, 0, 0, 0): preact = a exactly; V row 0 = e0, gates 1: out[0] = act(a).
      const tokens = 2001;
      const c = makeCase(rng, { tokens, slots: 1, d: 4, numExperts: 1, activation: act });
      c.u.fill(0);
      c.v.fill(0);
      c.u[c.offset] = 1;
      c.v[c.offset] = 1;
      c.gates.fill(1);
      c.x.fill(0);
      for (let t = 0; t < tokens; t++) c.x[t * 4] = Math.fround((t - 1000) / 150);
      const fwd = runForward(simd, c);
      c.dy.fill(0);
      for (let t = 0; t < tokens; t++) c.dy[t * 4] = 1;
      const back = runBackward(simd, { ...c, preact: fwd.preact });
      for (let t = 0; t < tokens; t++) {
        const a = c.x[t * 4] as number;
        expect(fwd.preact[t]).toBe(a);
        const h = activate(a, act);
        const dh = activateGrad(a, act);
        expect(Math.abs((fwd.out[t * 4] as number) - h)).toBeLessThanOrEqual(1e-6 * Math.abs(h));
        expect(Math.abs((back.coefU[t] as number) - dh)).toBeLessThanOrEqual(1e-6 * Math.abs(dh));
      }
    },
  );

  it('gives bitwise the same results zero-copy, mixed, and through the copy path', () => {
    for (const act of [0, 1] as const) {
      const c = makeCase(rng, { tokens: 33, slots: 16, d: 64, numExperts: 300, activation: act });
      const plain = runForward(simd, c);
      const plainBack = runBackward(simd, { ...c, preact: plain.preact });
      for (const everything of [false, true]) {
        const h = moveToHeap(simd.heap, c, everything);
        const fwd = runForward(simd, h, everything ? simd.heap : undefined);
        expectSame(fwd.out, plain.out, 'out');
        expectSame(fwd.preact, plain.preact, 'preact');
        const back = runBackward(simd, { ...h, preact: fwd.preact }, everything ? simd.heap : undefined);
        for (const key of ['dx', 'dgates', 'coefU', 'coefV'] as const)
          expectSame(back[key], plainBack[key], key);
      }
    }
  });

  it('native: two threads give bitwise the results of one (each token keeps its order of sums)', () => {
    for (const act of [0, 1] as const) {
      const c = makeCase(rng, { tokens: 64, slots: 128, d: 64, numExperts: 500, activation: act });
      const one = runForward(native, c);
      const two = runForward(nativeTwoThreads, c);
      expectSame(two.out, one.out, 'out');
      expectSame(two.preact, one.preact, 'preact');
      const b1 = runBackward(native, { ...c, preact: one.preact });
      const b2 = runBackward(nativeTwoThreads, { ...c, preact: one.preact });
      for (const key of ['dx', 'dgates', 'coefU', 'coefV'] as const) expectSame(b2[key], b1[key], key);
    }
  });

  it('native reads expert tables in the SIMD heap in place, with results equal to a plain copy', () => {
    const c = makeCase(rng, { tokens: 20, slots: 16, d: 64, numExperts: 300, activation: 1 });
    const plain = runForward(native, c);
    const h = moveToHeap(native.heap, c, true);
    const fwd = runForward(native, h, native.heap);
    expectSame(fwd.out, plain.out, 'out');
    expectSame(fwd.preact, plain.preact, 'preact');
  });

  it('rejects out-of-range ids, bad activations and short arrays with typed errors', () => {
    const kernels: PeerKernels[] = [simd, reference, native];
    for (const kernel of kernels) {
      const c: ExpertCase = makeCase(rng, { tokens: 3, slots: 2, d: 8, numExperts: 10, activation: 1 });
      c.ids[4] = 10;
      expect(() => runForward(kernel, c)).toThrow(/'ids\[4\]' must be in \[0, 10\), but got 10/);
      c.ids[4] = -1;
      expect(() => runBackward(kernel, { ...c, preact: new Float32Array(6) })).toThrow(PeerConfigError);
      c.ids[4] = 0;
      expect(() => runForward(kernel, { ...c, activation: 2 as ActivationCode })).toThrow(PeerConfigError);
      expect(() => runForward(kernel, { ...c, gates: new Float32Array(5) })).toThrow(PeerShapeError);
    }
  });
});
