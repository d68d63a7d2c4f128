import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { initBackend, shutdownBackend } from '../../src/backend/index.js';
import { PeerLayer } from '../../src/layer/peer-layer.js';
import { createRandom } from '../../src/util/random.js';

const cfg = { dModel: 32, heads: 4, topK: 4, dKey: 16, subKeyRows: 12, subKeyCols: 10 };

/** Forward output, expert ids, every variable gradient and the factored expert gradients, as plain arrays. */
function forwardAndGradients() {
  const layer = new PeerLayer(cfg, { seed: 13 });
  const rng = createRandom(14);
  const x = tf.tensor2d(rng.fillNormal(new Float32Array(9 * cfg.dModel), 1), [9, cfg.dModel]);
  const r = tf.tensor2d(rng.fillNormal(new Float32Array(9 * cfg.dModel), 1), [9, cfg.dModel]);
  const vars = layer.trainableVariables();
  let output: Float32Array = new Float32Array(0);
  const { grads } = tf.variableGrads(() => {
    const y = layer.apply(x, { training: true });
    output = Float32Array.from(y.dataSync());
    return y.mul(r).sum() as tf.Scalar;
  }, vars);
  const gradients = vars.map((v) => Float32Array.from(grads[v.name]?.dataSync() ?? []));
  const [part] = layer.gradients.drain();
  tf.dispose([x, r, ...Object.values(grads)]);
  layer.dispose();
  return { output, gradients, ids: part?.ids, coefU: part?.coefU, coefV: part?.coefV };
}

function expectAllClose(a: ArrayLike<number>, b: ArrayLike<number>, tol: number, label: string) {
  expect(a.length, label).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs((a[i] ?? 0) - (b[i] ?? 0)));
  expect(worst, label).toBeLessThan(tol);
}

afterAll(async () => {
  await shutdownBackend();
});

describe('wasm and cpu backends', () => {
  it('agree on the forward, the retrieved ids and every gradient', async () => {
    await initBackend({ backend: 'cpu' });
    const cpu = forwardAndGradients();
    await shutdownBackend();
    await initBackend({ backend: 'wasm' });
    const wasm = forwardAndGradients();
    expect(Array.from(wasm.ids ?? [])).toEqual(Array.from(cpu.ids ?? []));
    expectAllClose(wasm.output, cpu.output, 1e-4, 'output');
    cpu.gradients.forEach((g, i) => {
      expectAllClose(wasm.gradients[i] ?? [], g, 1e-4, `variable ${i}`);
    });
    expectAllClose(wasm.coefU ?? [], cpu.coefU ?? [], 1e-4, 'coefU');
    expectAllClose(wasm.coefV ?? [], cpu.coefV ?? [], 1e-4, 'coefV');
  });
});
