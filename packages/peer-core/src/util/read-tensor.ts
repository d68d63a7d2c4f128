import * as tf from '@tensorflow/tfjs';

interface HeapBackend {
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

function hasHeap(backend: unknown): backend is HeapBackend {
  return typeof (backend as Partial<HeapBackend>).typedArrayFromHeap === 'function';
}

/**
 * A float32 view of a tensor's values for synchronous use on training paths (inside a tape, where awaiting is
 * impossible). On the wasm backend it is a zero-copy view of the heap: valid only until the next tfjs op,
 * so copy it (`Float32Array.from`, `.set`) before running any.
 */
export function readTensorSync(t: tf.Tensor): Float32Array {
  const backend = tf.backend();
  if (t.dtype === 'float32' && hasHeap(backend)) {
    return backend.typedArrayFromHeap(t) as Float32Array;
  }
  return t.dataSync() as Float32Array;
}
