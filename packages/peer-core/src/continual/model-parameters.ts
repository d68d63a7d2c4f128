import type * as tf from '@tensorflow/tfjs';
import type { PeerLayer } from '../layer/peer-layer.js';
import type { PeerClassifier } from '../models/classifier.js';
import type { Dense } from '../models/dense.js';
import { DenseFeedForward, PeerFeedForward } from '../models/feed-forward.js';
import type { TensorBlock } from '../serialization/tensor-block.js';
import { readTensorSync } from '../util/read-tensor.js';

/** A tfjs variable of a model under its serialization name (`input.weight`, `heads.1.bias`, ...). */
export interface NamedVariable {
  readonly name: string;
  readonly variable: tf.Variable;
}

/** An expert table of a PEER layer under its name (`blocks.0.peer.experts.u`). */
export interface NamedExpertTable {
  readonly name: string;
  readonly layer: PeerLayer;
  readonly table: 'u' | 'v';
}

const pad = (n: number) => String(n).padStart(6, '0');

/**
 * Every learnable tfjs variable of a classifier, named like `serializeClassifier` names its blocks. Batch-norm
 * running statistics are left out: they are statistics, not parameters, and have no gradient.
 */
export function classifierVariables(model: PeerClassifier): NamedVariable[] {
  const out: NamedVariable[] = [];
  const dense = (name: string, d: Dense) => {
    out.push({ name: `${name}.weight`, variable: d.weight });
    if (d.bias) out.push({ name: `${name}.bias`, variable: d.bias });
  };
  const norm = (name: string, n: { gamma: tf.Variable; beta: tf.Variable }) => {
    out.push({ name: `${name}.gamma`, variable: n.gamma }, { name: `${name}.beta`, variable: n.beta });
  };
  dense('input', model.input);
  model.blocks.forEach(({ norm: blockNorm, ffn }, i) => {
    norm(`blocks.${i}.norm`, blockNorm);
    if (ffn instanceof DenseFeedForward) {
      dense(`blocks.${i}.ffn.up`, ffn.up);
      dense(`blocks.${i}.ffn.down`, ffn.down);
    } else if (ffn instanceof PeerFeedForward) {
      out.push(...peerVariables(ffn.layer, `blocks.${i}.peer`));
    }
  });
  norm('final_norm', model.finalNorm);
  for (const [t, head] of model.heads.entries()) dense(`heads.${t}`, head);
  return out;
}

function peerVariables(layer: PeerLayer, prefix: string): NamedVariable[] {
  const out: NamedVariable[] = [];
  layer.query.halves.forEach((q, i) => {
    const p = `${prefix}.query.${i + 1}`;
    out.push({ name: `${p}.weight`, variable: q.weight });
    if (q.gamma) out.push({ name: `${p}.bn.gamma`, variable: q.gamma });
    if (q.beta) out.push({ name: `${p}.bn.beta`, variable: q.beta });
  });
  out.push({ name: `${prefix}.keys.cols`, variable: layer.keys.columns });
  let start = 0;
  for (const segment of layer.keys.segments) {
    const end = start + (segment.shape[1] ?? 0);
    out.push({ name: `${prefix}.keys.rows.${pad(start)}-${pad(end)}`, variable: segment });
    start = end;
  }
  return out;
}

/** The expert tables of every PEER block. */
export function classifierExpertTables(model: PeerClassifier): NamedExpertTable[] {
  return model.blocks.flatMap(({ ffn }, i) =>
    ffn instanceof PeerFeedForward
      ? (['u', 'v'] as const).map((table) => ({
          name: `blocks.${i}.peer.experts.${table}`,
          layer: ffn.layer,
          table,
        }))
      : [],
  );
}

/** The active rows of an expert table, [numExperts, d] (a view: copy before the next table write). */
export function expertRows(t: NamedExpertTable): Float32Array {
  return t.layer.experts.rowRange(t.table, 0, t.layer.experts.rows);
}

/** A float32 block holding a copy of `values`. */
export function floatBlock(name: string, shape: readonly number[], values: Float32Array): TensorBlock {
  const copy = Float32Array.from(values);
  return { name, dtype: 'float32', shape: [...shape], bytes: new Uint8Array(copy.buffer) };
}

/** The float32 values of a block (a copy, aligned). */
export function blockValues(block: TensorBlock): Float32Array {
  return new Float32Array(block.bytes.slice().buffer);
}

/** A copy of every parameter (variables and active expert rows) as named blocks: an anchor of the version. */
export function snapshotParameters(model: PeerClassifier): TensorBlock[] {
  const blocks = classifierVariables(model).map(({ name, variable }) =>
    floatBlock(name, variable.shape, readTensorSync(variable)),
  );
  for (const t of classifierExpertTables(model)) {
    blocks.push(floatBlock(t.name, [t.layer.numExperts, t.layer.experts.d], expertRows(t)));
  }
  return blocks;
}
