import type { PeerLayer } from '../../src/layer/peer-layer.js';
import type { ReferenceParams } from './reference-peer.js';

const f64 = (t: { dataSync(): ArrayLike<number> }) => Float64Array.from(t.dataSync());

/** Copies every parameter of a layer into float64 arrays for the naive reference. */
export function referenceParamsOf(layer: PeerLayer, training: boolean): ReferenceParams {
  const c = layer.config;
  const [h1, h2] = layer.query.halves;
  const rowKeys = layer.keys.rowKeys();
  const c1 = f64(rowKeys);
  if (rowKeys !== layer.keys.segments[0]) rowKeys.dispose();
  const n = layer.numExperts * c.dModel;
  const none = new Float64Array(0);
  const opt = (t: { dataSync(): ArrayLike<number> } | undefined) => (t ? f64(t) : none);
  return {
    d: c.dModel,
    heads: c.heads,
    dKey: c.dKey,
    keyHeads: layer.keys.keyHeads,
    rows: layer.keys.rows,
    cols: layer.keys.cols,
    k: c.topK,
    relu: c.activation === 'relu',
    batchNorm: c.queryBatchNorm
      ? {
          eps: c.batchNormEpsilon,
          training: training && !layer.query.frozen,
          mean: [opt(h1.movingMean), opt(h2.movingMean)],
          variance: [opt(h1.movingVariance), opt(h2.movingVariance)],
        }
      : null,
    w1: f64(h1.weight),
    w2: f64(h2.weight),
    gamma1: opt(h1.gamma),
    beta1: opt(h1.beta),
    gamma2: opt(h2.gamma),
    beta2: opt(h2.beta),
    c1,
    c2: f64(layer.keys.columns),
    u: Float64Array.from(layer.experts.u.data.subarray(0, n)),
    v: Float64Array.from(layer.experts.v.data.subarray(0, n)),
  };
}
