import { PeerError } from '../errors/peer-error.js';
import type { TensorBlock } from '../serialization/tensor-block.js';
import { ClassPrototypes } from './class-prototypes.js';
import type { PrototypeMode, PrototypeSpace } from './prototype-classifier.js';
import type { RegularizationState } from './state-store.js';

/** The store method name prototypes are saved under, per model version. */
export const PROTOTYPE_STATE_METHOD = 'class-prototypes';

/** How saved prototypes join the head's prediction (what a server needs to predict with them). */
export interface PrototypeSettings {
  readonly mode: PrototypeMode;
  readonly space: PrototypeSpace;
  readonly weight: number;
}

/** Prototypes as saved with a version: the centroids, the classes each stream taught, and how to use them. */
export interface SavedPrototypes {
  readonly prototypes: ClassPrototypes;
  /** Classes taught by each stream, by stream index in the order the prototypes saw them. */
  readonly streamClasses: readonly (readonly number[])[];
  readonly settings: PrototypeSettings;
}

/**
 * Prototypes as a regularization state (blocks + JSON meta), so every store that keeps EWC's Fisher keeps
 * them too. The settings travel with them: a server predicting with a version's prototypes must combine them
 * exactly as the job that measured its accuracy did.
 */
export function prototypeState(saved: SavedPrototypes): RegularizationState {
  const s = saved.prototypes.snapshot();
  const m = s.labels.length;
  return {
    anchors: [
      block('centroids', 'float32', [m, s.dim], s.centroids),
      block('labels', 'int32', [m], s.labels),
      block('streams', 'int32', [m], s.streams),
    ],
    fisher: [],
    meta: {
      dim: s.dim,
      perClass: s.perClass,
      squaredSum: s.squaredSum,
      squaredCount: s.squaredCount,
      space: saved.settings.space,
      mode: saved.settings.mode,
      weight: saved.settings.weight,
      streamClasses: JSON.stringify(saved.streamClasses),
    },
  };
}

/**
 * The prototypes a {@link prototypeState} holds. States saved before the settings were (space only) read as
 * `product` with weight 20, the defaults they ran with. A state that is not one throws `invalid_state`.
 */
export function restorePrototypes(state: RegularizationState): SavedPrototypes {
  const { meta } = state;
  const find = (name: string) => {
    const bytes = state.anchors.find((b) => b.name === name)?.bytes;
    if (!bytes) throw new PeerError('invalid_state', `saved prototypes lack their '${name}' block`);
    return bytes.slice().buffer; // aligned copy: stored blocks may start at any offset
  };
  const space = meta.space;
  const mode = meta.mode ?? 'product';
  if ((space !== 'input' && space !== 'projection') || (mode !== 'task' && mode !== 'product')) {
    throw new PeerError('invalid_state', `saved prototypes have space '${space}' and mode '${mode}'`);
  }
  const prototypes = ClassPrototypes.fromSnapshot({
    dim: Number(meta.dim),
    perClass: Number(meta.perClass),
    centroids: new Float32Array(find('centroids')),
    labels: new Int32Array(find('labels')),
    streams: new Int32Array(find('streams')),
    squaredSum: Number(meta.squaredSum),
    squaredCount: Number(meta.squaredCount),
  });
  const streamClasses = JSON.parse(String(meta.streamClasses ?? '[]')) as number[][];
  return { prototypes, streamClasses, settings: { mode, space, weight: Number(meta.weight ?? 20) } };
}

function block(
  name: string,
  dtype: 'float32' | 'int32',
  shape: number[],
  values: Float32Array | Int32Array,
): TensorBlock {
  return { name, dtype, shape, bytes: new Uint8Array(values.buffer, values.byteOffset, values.byteLength) };
}
