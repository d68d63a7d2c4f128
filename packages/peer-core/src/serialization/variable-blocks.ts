import * as tf from '@tensorflow/tfjs';
import { PeerShapeError } from '../errors/peer-error.js';
import { readTensorSync } from '../util/read-tensor.js';
import type { TensorBlock } from './tensor-block.js';

/** A float32 variable as a block (little-endian bytes, as wasm and x86/arm hosts store them). */
export function variableBlock(name: string, variable: tf.Variable): TensorBlock {
  const values = Float32Array.from(readTensorSync(variable));
  return { name, dtype: 'float32', shape: variable.shape, bytes: new Uint8Array(values.buffer) };
}

/** Overwrites a variable with a block's values after checking dtype, shape and byte length. */
export function assignFromBlock(variable: tf.Variable, block: TensorBlock): void {
  checkShape(block, variable.shape);
  const values = new Float32Array(block.bytes.slice().buffer);
  tf.tidy(() => variable.assign(tf.tensor(values, variable.shape)));
}

/** Throws a typed error naming the block unless it is float32 with exactly this shape. */
export function checkShape(block: TensorBlock, shape: readonly number[]): void {
  const expected = shape.reduce((a, b) => a * b, 1) * 4;
  if (
    block.dtype !== 'float32' ||
    block.bytes.byteLength !== expected ||
    block.shape.join() !== shape.join()
  ) {
    throw new PeerShapeError(
      `block '${block.name}' is ${block.dtype} [${block.shape}] (${block.bytes.byteLength} bytes), expected float32 [${shape}]`,
    );
  }
}
