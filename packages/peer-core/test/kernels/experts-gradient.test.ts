import { describe, expect, it } from 'vitest';
import type { ActivationCode, PeerKernels } from '../../src/kernels/peer-kernels.js';
import { createReferenceKernels } from '../../src/kernels/reference-kernels.js';
import { createSimdKernels } from '../../src/kernels/simd-kernels.js';
import { createRandom } from '../../src/util/random.js';
import { type ExpertCase, makeCase, runBackward, runForward } from './experts-case.js';
import { requireNativeKernels } from './native-helpers.js';

const GELU_C = Math.sqrt(2 / Math.PI);

function act64(a: number, code: ActivationCode): number {
  return code === 0 ? Math.max(a, 0) : 0.5 * a * (1 + Math.tanh(GELU_C * (a + 0.044715 * a ** 3)));
}

type Param = 'x' | 'gates' | 'u' | 'v';

/** The case's parameters widened to float64, so a finite-difference step is not rounded away. */
type Wide = Omit<ExpertCase, Param> & Record<Param, Float64Array>;

function widen(c: ExpertCase): Wide {
  return {
    ...c,
    x: Float64Array.from(c.x),
    gates: Float64Array.from(c.gates),
    u: Float64Array.from(c.u),
    v: Float64Array.from(c.v),
  };
}

/** Loss = sum(out * dy) of the expert layer, in float64 straight from the definition. */
function loss64(c: Wide): number {
  let total = 0;
  for (let t = 0; t < c.tokens; t++) {
    for (let s = 0; s < c.slots; s++) {
      const row = c.offset + (c.ids[t * c.slots + s] as number) * c.d;
      let a = 0;
      for (let j = 0; j < c.d; j++) a += (c.u[row + j] as number) * (c.x[t * c.d + j] as number);
      const coef = (c.gates[t * c.slots + s] as number) * act64(a, c.activation);
      for (let j = 0; j < c.d; j++) total += coef * (c.v[row + j] as number) * (c.dy[t * c.d + j] as number);
    }
  }
  return total;
}

/** Central difference of loss64 in element i of one parameter. */
function numeric(c: Wide, param: Param, i: number): number {
  const array = c[param];
  const keep = array[i] as number;
  const h = 1e-3;
  array[i] = keep + h;
  const up = loss64(c);
  array[i] = keep - h;
  const down = loss64(c);
  array[i] = keep;
  return (up - down) / (2 * h);
}

/** dU and dV from the rank-1 factors, accumulated by scatterRank1 (dU[id] += coefU x[t], dV[id] += coefV dy[t]). */
function tableGrads(kernels: PeerKernels, c: ExpertCase, coefU: Float32Array, coefV: Float32Array) {
  const n = c.tokens * c.slots;
  const rowOf = new Int32Array(n);
  const tokenOf = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    rowOf[i] = c.ids[i] as number;
    tokenOf[i] = Math.floor(i / c.slots);
  }
  const dU = new Float32Array(c.u.length - c.offset);
  const dV = new Float32Array(c.v.length - c.offset);
  kernels.scatterRank1(dU, c.d, rowOf, coefU, c.x, tokenOf, n);
  kernels.scatterRank1(dV, c.d, rowOf, coefV, c.dy, tokenOf, n);
  return { dU, dV };
}

describe('expert gradients vs finite differences (float64)', () => {
  for (const kernels of [createSimdKernels(), createReferenceKernels(), requireNativeKernels()]) {
    it.each([0, 1] as const)(`${kernels.name}: activation %i`, (activation) => {
      const rng = createRandom(5 + activation);
      const c = makeCase(rng, { tokens: 3, slots: 5, d: 8, numExperts: 4, activation });
      const { preact } = runForward(kernels, c);
      // Finite differences across ReLU's kink are meaningless: keep preactivations away from 0.
      for (const a of preact) expect(Math.abs(a)).toBeGreaterThan(1e-2);
      const g = runBackward(kernels, { ...c, preact });
      const { dU, dV } = tableGrads(kernels, c, g.coefU, g.coefV);
      const wide = widen(c);
      const checks: [Param, Float32Array, number][] = [
        ['x', g.dx, 0],
        ['gates', g.dgates, 0],
        ['u', dU, c.offset],
        ['v', dV, c.offset],
      ];
      for (const [param, grad, offset] of checks) {
        for (let i = 0; i < grad.length; i++) {
          const expected = numeric(wide, param, i + offset);
          const err = Math.abs((grad[i] as number) - expected);
          expect(err, `${param}[${i}]`).toBeLessThan(1e-4 * (1 + Math.abs(expected)));
        }
      }
    });
  }
});
