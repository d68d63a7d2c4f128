import type * as tf from '@tensorflow/tfjs';
import { type PeerConfig, parsePeerConfig } from '../config/peer-config.js';
import { PeerConfigError, PeerShapeError } from '../errors/peer-error.js';
import { PeerLayer, type PeerLayerOptions } from '../layer/peer-layer.js';
import type { TensorBlock } from './tensor-block.js';
import { assignFromBlock, checkShape, variableBlock } from './variable-blocks.js';

/** Target size of one expert-table block: big enough for fast bulk I/O, small enough to dedupe growth. */
const TARGET_BLOCK_BYTES = 2 * 1024 * 1024;

/** What, beyond the PEER config, rebuilding a layer needs: row segments (one per growth step), frozen state. */
export interface PeerLayerState {
  readonly config: PeerConfig;
  /** Sub-key rows of each segment, in order (the first is the initial pool). */
  readonly segments: readonly number[];
  readonly frozenExperts: number;
  readonly queryFrozen: boolean;
  /** Per segment: trainable or frozen (the column keys follow the first segment). */
  readonly segmentTrainable: readonly boolean[];
  readonly columnsTrainable: boolean;
}

const pad = (n: number) => String(n).padStart(6, '0');

/**
 * The layer's parameters as named blocks. Expert tables are cut at sub-key-row boundaries *within each
 * growth segment*, so a growth step adds new blocks and leaves every old block byte-identical (the store
 * dedupes them by content hash). Blocks are yielded one at a time: a 1M-expert layer is 2 GiB.
 */
export function* peerLayerBlocks(layer: PeerLayer, prefix: string): Generator<TensorBlock> {
  for (const [name, variable] of namedVariables(layer, prefix)) yield variableBlock(name, variable);
  const { cols, d } = layer.experts;
  const rowsPerBlock = Math.max(1, Math.floor(TARGET_BLOCK_BYTES / (cols * d * 4)));
  let start = 0;
  for (const segment of layer.keys.segments) {
    const end = start + (segment.shape[1] ?? 0);
    for (let from = start; from < end; from += rowsPerBlock) {
      const to = Math.min(end, from + rowsPerBlock);
      for (const table of ['u', 'v'] as const) {
        const values = layer.experts.rowRange(table, from, to);
        yield {
          name: `${prefix}.experts.${table}.rows.${pad(from)}-${pad(to)}`,
          dtype: 'float32',
          shape: [(to - from) * cols, d],
          bytes: new Uint8Array(
            values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength),
          ),
        };
      }
    }
    start = end;
  }
}

/** The JSON-able state that, with the blocks, rebuilds the layer exactly. */
export function peerLayerState(layer: PeerLayer): PeerLayerState {
  return {
    config: layer.config,
    segments: layer.keys.segments.map((s) => s.shape[1] ?? 0),
    frozenExperts: layer.frozenExperts,
    queryFrozen: layer.query.frozen,
    segmentTrainable: layer.keys.segments.map((s) => s.trainable),
    columnsTrainable: layer.keys.columns.trainable,
  };
}

/** Rebuilds a layer from its state and blocks (exact round trip: every byte is restored). */
export function peerLayerFromBlocks(
  state: PeerLayerState,
  blocks: Iterable<TensorBlock>,
  prefix: string,
  options: Omit<PeerLayerOptions, 'skipInit'> = {},
): PeerLayer {
  const config = parsePeerConfig({
    ...state.config,
    subKeyRows: state.segments[0] ?? state.config.subKeyRows,
  });
  const layer = new PeerLayer(config, { ...options, skipInit: true });
  restorePeerLayer(layer, state, blocks, prefix);
  return layer;
}

/**
 * Restores a layer built from the same config (before any growth) in place: grows it to the state's
 * segments, then overwrites every parameter from the blocks named under `prefix` (others are ignored, so a
 * whole model's blocks can be passed). Every parameter must be present.
 */
export function restorePeerLayer(
  layer: PeerLayer,
  state: PeerLayerState,
  blocks: Iterable<TensorBlock>,
  prefix: string,
): void {
  if (layer.keys.segments.length !== 1 || layer.keys.rows !== state.segments[0]) {
    throw new PeerConfigError('layer', `an ungrown layer with ${state.segments[0]} rows`, layer.keys.rows);
  }
  const half = layer.keys.half;
  for (const rows of state.segments.slice(1)) {
    layer.keys.appendRows(new Float32Array(layer.keys.keyHeads * rows * half), rows);
    layer.experts.appendRows(rows);
  }
  const variables = new Map(namedVariables(layer, prefix));
  const expertPrefix = `${prefix}.experts.`;
  let expertValues = 0;
  for (const block of blocks) {
    if (block.name.startsWith(expertPrefix)) {
      expertValues += restoreExpertRows(layer, block, expertPrefix);
      continue;
    }
    const variable = variables.get(block.name);
    if (!variable) continue;
    assignFromBlock(variable, block);
    variables.delete(block.name);
  }
  const missing = [...variables.keys()];
  if (missing.length > 0 || expertValues !== 2 * layer.numExperts * layer.experts.d) {
    throw new PeerShapeError(`layer '${prefix}' is missing blocks: ${missing.join(', ') || 'expert rows'}`);
  }
  layer.frozenExperts = state.frozenExperts;
  if (state.queryFrozen) layer.query.freeze();
  state.segmentTrainable.forEach((trainable, i) => {
    const segment = layer.keys.segments[i];
    if (segment) segment.trainable = trainable;
  });
  layer.keys.columns.trainable = state.columnsTrainable;
}

/** Copies one expert-table block into its rows; returns the number of values restored. */
function restoreExpertRows(layer: PeerLayer, block: TensorBlock, expertPrefix: string): number {
  const match = /^(u|v)\.rows\.(\d+)-(\d+)$/.exec(block.name.slice(expertPrefix.length));
  if (!match) throw new PeerConfigError('block.name', `'${expertPrefix}{u|v}.rows.FROM-TO'`, block.name);
  const table = match[1] as 'u' | 'v';
  const from = Number(match[2]);
  const to = Number(match[3]);
  const { cols, d } = layer.experts;
  checkShape(block, [(to - from) * cols, d]);
  layer.experts.rowRange(table, from, to).set(new Float32Array(block.bytes.slice().buffer));
  return (to - from) * cols * d;
}

function namedVariables(layer: PeerLayer, prefix: string): [string, tf.Variable][] {
  const out: [string, tf.Variable][] = [];
  layer.query.halves.forEach((q, i) => {
    const p = `${prefix}.query.${i + 1}`;
    out.push([`${p}.weight`, q.weight]);
    if (q.gamma && q.beta && q.movingMean && q.movingVariance) {
      out.push(
        [`${p}.bn.gamma`, q.gamma],
        [`${p}.bn.beta`, q.beta],
        [`${p}.bn.moving_mean`, q.movingMean],
        [`${p}.bn.moving_variance`, q.movingVariance],
      );
    }
  });
  out.push([`${prefix}.keys.cols`, layer.keys.columns]);
  let start = 0;
  for (const segment of layer.keys.segments) {
    const end = start + (segment.shape[1] ?? 0);
    out.push([`${prefix}.keys.rows.${pad(start)}-${pad(end)}`, segment]);
    start = end;
  }
  return out;
}
