import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.js';
import { PeerLayer } from '../../src/layer/peer-layer.js';
import { createRandom } from '../../src/util/random.js';
import { referenceParamsOf } from '../support/layer-params.js';
import { type ReferenceParams, referenceForward } from '../support/reference-peer.js';

beforeAll(async () => {
  await initBackend({ backend: (process.env.PEER_TEST_BACKEND as 'cpu' | 'wasm' | undefined) ?? 'wasm' });
});

type ParamName = 'w1' | 'w2' | 'gamma1' | 'beta1' | 'gamma2' | 'beta2' | 'c1' | 'c2' | 'u' | 'v';

/** Central finite difference of the float64 reference loss sum(y * r) in every element of a parameter. */
function numericGradient(
  p: ReferenceParams,
  name: ParamName,
  loss: (p: ReferenceParams) => number,
  eps = 1e-6,
): Float64Array {
  const values = p[name];
  const grad = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const saved = values[i] ?? 0;
    values[i] = saved + eps;
    const up = loss(p);
    values[i] = saved - eps;
    const down = loss(p);
    values[i] = saved;
    grad[i] = (up - down) / (2 * eps);
  }
  return grad;
}

function expectClose(actual: ArrayLike<number>, expected: Float64Array, label: string) {
  let scale = 1e-3;
  for (const e of expected) scale = Math.max(scale, Math.abs(e));
  let worst = 0;
  for (let i = 0; i < expected.length; i++)
    worst = Math.max(worst, Math.abs((actual[i] ?? 0) - (expected[i] ?? 0)));
  expect(worst / scale, `${label}: max |analytic - numeric| / max |numeric|`).toBeLessThan(2e-3);
}

describe('PeerLayer gradients', () => {
  it.each([
    { sharedKeys: true, activation: 'gelu' as const, queryBatchNorm: true },
    { sharedKeys: false, activation: 'relu' as const, queryBatchNorm: false },
  ])('match finite differences of a float64 reference for every parameter (%o)', (variant) => {
    const cfg = { dModel: 8, heads: 2, topK: 3, dKey: 4, subKeyRows: 4, subKeyCols: 5, ...variant };
    const layer = new PeerLayer(cfg, { seed: 21 });
    const tokens = 5;
    const rng = createRandom(77);
    const xData = rng.fillNormal(new Float32Array(tokens * cfg.dModel), 1);
    const rData = rng.fillNormal(new Float32Array(tokens * cfg.dModel), 1);
    const x = tf.tensor2d(xData, [tokens, cfg.dModel]);
    const r = tf.tensor2d(rData, [tokens, cfg.dModel]);
    // Reference params are taken before the step (training BN updates running stats, not used in training).
    const p = referenceParamsOf(layer, true);
    const vars = layer.trainableVariables();
    let selection: ReturnType<PeerLayer['route']>['selection'] | undefined;
    const { grads } = tf.variableGrads(() => {
      const probe = layer.route(x, true);
      selection = probe.selection;
      probe.gates.dispose();
      return layer.apply(x, { training: true }).mul(r).sum() as tf.Scalar;
    }, vars);
    if (!selection) throw new Error('no selection');
    const sel = { rowIndex: selection.rowIndex, colIndex: selection.colIndex };
    const x64 = Float64Array.from(xData);
    const loss = (q: ReferenceParams) => {
      const { y } = referenceForward(q, x64, tokens, sel);
      let s = 0;
      for (let i = 0; i < y.length; i++) s += (y[i] ?? 0) * (rData[i] ?? 0);
      return s;
    };
    const byVariable = new Map(vars.map((v) => [v, grads[v.name]]));
    layer.query.halves.forEach((q, i) => {
      const which = i === 0 ? '1' : '2';
      const grad = (v: tf.Variable | undefined) => (v ? (byVariable.get(v)?.dataSync() ?? []) : []);
      expectClose(grad(q.weight), numericGradient(p, `w${which}`, loss), `W_q${which}`);
      if (q.gamma && q.beta) {
        expectClose(grad(q.gamma), numericGradient(p, `gamma${which}`, loss), `gamma${which}`);
        expectClose(grad(q.beta), numericGradient(p, `beta${which}`, loss), `beta${which}`);
      }
    });
    const seg = layer.keys.segments[0];
    if (!seg) throw new Error('no segment');
    expectClose(byVariable.get(seg)?.dataSync() ?? [], numericGradient(p, 'c1', loss), 'C1');
    expectClose(byVariable.get(layer.keys.columns)?.dataSync() ?? [], numericGradient(p, 'c2', loss), 'C2');
    // Expert tables: materialise the factored gradient densely (small N) and compare.
    const d = cfg.dModel;
    const dU = new Float64Array(layer.numExperts * d);
    const dV = new Float64Array(layer.numExperts * d);
    for (const part of layer.gradients.drain()) {
      for (let s = 0; s < part.ids.length; s++) {
        const id = part.ids[s] ?? 0;
        const t = Math.floor(s / part.slots);
        for (let c = 0; c < d; c++) {
          dU[id * d + c] = (dU[id * d + c] ?? 0) + (part.coefU[s] ?? 0) * (part.x[t * d + c] ?? 0);
          dV[id * d + c] = (dV[id * d + c] ?? 0) + (part.coefV[s] ?? 0) * (part.dy[t * d + c] ?? 0);
        }
      }
    }
    expectClose(dU, numericGradient(p, 'u', loss), 'U');
    expectClose(dV, numericGradient(p, 'v', loss), 'V');
    // Input gradient against finite differences in x.
    const dx = tf.grad((xi: tf.Tensor) =>
      layer
        .apply(xi as tf.Tensor2D, { training: true })
        .mul(r)
        .sum(),
    )(x);
    layer.gradients.drain();
    const numericDx = new Float64Array(x64.length);
    const lossX = () => loss(p);
    for (let i = 0; i < x64.length; i++) {
      const saved = x64[i] ?? 0;
      x64[i] = saved + 1e-6;
      const up = lossX();
      x64[i] = saved - 1e-6;
      const down = lossX();
      x64[i] = saved;
      numericDx[i] = (up - down) / 2e-6;
    }
    expectClose(dx.dataSync(), numericDx, 'x');
    tf.dispose([x, r, dx, ...Object.values(grads)]);
    layer.dispose();
  });
});
