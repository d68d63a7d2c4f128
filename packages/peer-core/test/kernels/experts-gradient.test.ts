import { describe, expect, it } from 'vitest';
import type { ActivationCode, PeerKernels } from '../../src/kernels/peer-kernels.js';
import { createReferenceKernels } from '../../src/kernels/reference-kernels.js';
import { createSimdKernels } from '../../src/kernels/simd-kernels.js';
import { createRandom } from '../../src/util/random.js';
import { type ExpertCase, makeCase, runBackward, runForward } from './experts-case.js';

const GELU_C = Math.sqrt(2 / Math.PI);

function act64(a: number, code: ActivationCode): number {
  return code === 0 ? Math.max(a, 0) : 0.5 * a * (1 + Math.tanh(GELU_C * (a + 0.044715 * a ** 3)));
}

/** Loss = sum(out * dy) of the expert layer, in float64 straight from the definition. */
function loss64(c: ExpertCase): number {
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

/** Central difference of loss64 in one element (the array is patched in place and restored). */
function numeric(c: ExpertCase, array: Float32Array, i: number): number {
  const keep = array[i] as number;
  const h = 1e-3;
  // Float32Array storage would round the step: perturb a float64 copy of the case instead.
  const wide = { ...c, [key(c, array)]: Float64Array.from(array) } as unknown as ExpertCase;
  const target = (wide as unknown as Record<string, Float64Array>)[key(c, array)] as Float64Array;
  target[i] = keep + h;
  const up = loss64(wide);
  target[i] = keep - h;
  const down = loss64(wide);
  return (up - down) / (2 * h);
}

function key(c: ExpertCase, array: Float32Array): string {
  const found = (['x', 'gates', 'u', 'v'] as const).find((k) => c[k] === array);
  if (!found) throw new Error('unknown array');
  return found;
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
  for (const kernels of [createSimdKernels(), createReferenceKernels()]) {
    it.each([0, 1] as const)(`${kernels.name}: activation %i`, (activation) => {
      const rng = createRandom(5 + activation);
      const c = makeCase(rng, { tokens: 3, slots: 5, d: 8, numExperts: 4, activation });
      const { preact } = runForward(kernels, c);
      // Finite differences across ReLU's kink are meaningless: keep preactivations away from 0.
      for (const a of preact) expect(Math.abs(a)).toBeGreaterThan(1e-2);
      const g = runBackward(kernels, { ...c, preact });
      const { dU, dV } = tableGrads(kernels, c, g.coefU, g.coefV);
      const checks: [Float32Array, Float32Array, number][] = [
        [c.x, g.dx, 0],
        [c.gates, g.dgates, 0],
        [c.u, dU, c.offset],
        [c.v, dV, c.offset],
      ];
      for (const [param, grad, offset] of checks) {
        for (let i = 0; i < grad.length; i++) {
          const expected = numeric(c, param, i + offset);
          expect(Math.abs((grad[i] as number) - expected), `${key(c, param)}[${i}]`).toBeLessThan(
            1e-4 * (1 + Math.abs(expected)),
          );
        }
      }
    });
  }
});
