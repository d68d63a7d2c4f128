import type * as tf from '@tensorflow/tfjs';
import { PeerShapeError } from '../errors/peer-error.js';
import { PeerClassifier } from '../models/classifier.js';
import type { ClassifierConfig } from '../models/classifier-config.js';
import type { PeerFeedForward } from '../models/feed-forward.js';
import {
  type PeerLayerState,
  peerLayerBlocks,
  peerLayerState,
  restorePeerLayer,
} from './peer-layer-blocks.js';
import type { TensorBlock } from './tensor-block.js';
import { assignFromBlock, variableBlock } from './variable-blocks.js';

/** The JSON half of a serialized classifier: its config plus each PEER block's growth state. */
export interface ClassifierManifest {
  readonly kind: 'classifier';
  readonly config: ClassifierConfig;
  readonly peer: Readonly<Record<string, PeerLayerState>>;
}

/**
 * A classifier as a manifest plus named blocks (yielded lazily: expert tables can be gigabytes).
 * Names: `input.weight`, `blocks.0.norm.gamma`, `blocks.0.ffn.up.weight` or `blocks.0.peer.experts.u.rows.…`,
 * `final_norm.beta`, `heads.1.bias`, …
 */
export function serializeClassifier(model: PeerClassifier): {
  manifest: ClassifierManifest;
  blocks: Iterable<TensorBlock>;
} {
  const peer: Record<string, PeerLayerState> = {};
  model.blocks.forEach((block, i) => {
    const layer = peerLayerOf(block.ffn);
    if (layer) peer[`blocks.${i}.peer`] = peerLayerState(layer);
  });
  function* blocks(): Generator<TensorBlock> {
    for (const [name, variable] of denseVariables(model)) yield variableBlock(name, variable);
    for (const [i, block] of model.blocks.entries()) {
      const layer = peerLayerOf(block.ffn);
      if (layer) yield* peerLayerBlocks(layer, `blocks.${i}.peer`);
    }
  }
  return { manifest: { kind: 'classifier', config: model.getConfig(), peer }, blocks: blocks() };
}

/** Rebuilds a classifier exactly (every parameter byte, growth segments, frozen state). */
export function deserializeClassifier(
  manifest: ClassifierManifest,
  blocks: Iterable<TensorBlock>,
): PeerClassifier {
  const model = new PeerClassifier(manifest.config);
  const all = [...blocks];
  const dense = new Map(denseVariables(model));
  for (const block of all) {
    const variable = dense.get(block.name);
    if (!variable) continue;
    assignFromBlock(variable, block);
    dense.delete(block.name);
  }
  if (dense.size > 0)
    throw new PeerShapeError(`classifier is missing blocks: ${[...dense.keys()].join(', ')}`);
  model.blocks.forEach((block, i) => {
    const layer = peerLayerOf(block.ffn);
    const state = manifest.peer[`blocks.${i}.peer`];
    if (layer && state) restorePeerLayer(layer, state, all, `blocks.${i}.peer`);
  });
  return model;
}

function peerLayerOf(ffn: unknown) {
  return (ffn as Partial<PeerFeedForward>).layer;
}

/** Every tfjs variable of the model outside the PEER layers, by block name. */
function denseVariables(model: PeerClassifier): [string, tf.Variable][] {
  const out: [string, tf.Variable][] = [];
  const dense = (name: string, d: { weight: tf.Variable; bias?: tf.Variable | undefined }) => {
    out.push([`${name}.weight`, d.weight]);
    if (d.bias) out.push([`${name}.bias`, d.bias]);
  };
  const norm = (name: string, n: { gamma: tf.Variable; beta: tf.Variable }) => {
    out.push([`${name}.gamma`, n.gamma], [`${name}.beta`, n.beta]);
  };
  dense('input', model.input);
  model.blocks.forEach((block, i) => {
    norm(`blocks.${i}.norm`, block.norm);
    const ffn = block.ffn as Partial<{ up: typeof model.input; down: typeof model.input }>;
    if (ffn.up && ffn.down) {
      dense(`blocks.${i}.ffn.up`, ffn.up);
      dense(`blocks.${i}.ffn.down`, ffn.down);
    }
  });
  norm('final_norm', model.finalNorm);
  model.heads.forEach((head, t) => {
    dense(`heads.${t}`, head);
  });
  return out;
}
