import * as tf from '@tensorflow/tfjs';
import { PeerShapeError } from '../errors/peer-error.js';

/** A labelled vector data set held in plain arrays: rows of `x` are examples, `y` their classes. */
export interface LabeledData {
  /** Row-major [size, dim]. */
  readonly x: Float32Array;
  /** [size], each in [0, classes). */
  readonly y: Int32Array;
  readonly size: number;
  readonly dim: number;
  readonly classes: number;
}

/** Checks that the arrays of a data set agree with its declared shape. */
export function checkLabeledData(data: LabeledData): LabeledData {
  if (data.x.length !== data.size * data.dim || data.y.length !== data.size) {
    throw new PeerShapeError(
      `labelled data: size ${data.size}, dim ${data.dim}, but x has ${data.x.length} values and y ${data.y.length}`,
    );
  }
  return data;
}

/** The examples whose label `keep` accepts, with labels mapped through `relabel` (default: unchanged). */
export function filterByLabel(
  data: LabeledData,
  keep: (label: number) => boolean,
  relabel: (label: number) => number = (l) => l,
  classes = data.classes,
): LabeledData {
  const rows: number[] = [];
  for (let i = 0; i < data.size; i++) if (keep(data.y[i] ?? -1)) rows.push(i);
  const x = new Float32Array(rows.length * data.dim);
  const y = new Int32Array(rows.length);
  rows.forEach((r, i) => {
    x.set(data.x.subarray(r * data.dim, (r + 1) * data.dim), i * data.dim);
    y[i] = relabel(data.y[r] ?? 0);
  });
  return { x, y, size: rows.length, dim: data.dim, classes };
}

/** The data set as tensors: x [size, dim] float32 and y [size] int32 (the caller disposes them). */
export function toTensors(data: LabeledData): { x: tf.Tensor2D; y: tf.Tensor1D } {
  return { x: tf.tensor2d(data.x, [data.size, data.dim]), y: tf.tensor1d(data.y, 'int32') };
}
