import * as tf from '@tensorflow/tfjs';
import type { NativeAddon } from '../kernels/native-addon.js';
import { matMulGradients, type TransposedProduct } from './matmul-gradients.js';

/** The tfjs kernel name of op(A) op(B) on the native GEMM. */
export const NATIVE_MATMUL = 'PeerNativeMatMul';

interface MatMulAttrs {
  transposeA: boolean;
  transposeB: boolean;
  threads: number;
}

/** What the kernel needs of the wasm backend: outputs allocated in its heap, heap views of tensors. */
interface HeapBackend {
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
}

/** What it needs of the cpu backend: values by dataId, tensors made from values. */
interface ValuesBackend {
  readSync(dataId: object): Float32Array;
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): tf.TensorInfo;
}

let kernelAddon: NativeAddon | undefined;

/**
 * op(A) op(B) through the native AVX2/FMA GEMM, as a registered tfjs kernel (wasm and cpu backends): 2.5-3x
 * the wasm backend's XNNPACK matMul on one thread for the PEER shapes, and transposed operands cost the same
 * as plain ones (the packing reads them). Being a kernel rather than a `customGrad` has two effects:
 * - its gradient's two products are lazy, so tfjs computes only those on a path to what is differentiated
 *   (a model's input projection never computes d(input): 16% of a Split-MNIST MLP step's products);
 * - on wasm the product is written straight into a heap output, with no JS array and copy per call.
 */
export function nativeMatMul(
  addon: NativeAddon,
  a: tf.Tensor2D,
  b: tf.Tensor2D,
  transposeA: boolean,
  transposeB: boolean,
  threads: number,
): tf.Tensor2D {
  register(addon);
  const attrs: MatMulAttrs = { transposeA, transposeB, threads };
  return tf.engine().runKernel(NATIVE_MATMUL, { a, b }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor2D;
}

/** Registers the kernel (once per process: the addon is a process-wide singleton) and its gradient. */
function register(addon: NativeAddon): void {
  if (kernelAddon) return;
  kernelAddon = addon;
  for (const backendName of ['wasm', 'cpu']) {
    tf.registerKernel({
      kernelName: NATIVE_MATMUL,
      backendName,
      kernelFunc: ({ inputs, backend, attrs }) =>
        product(
          inputs.a as tf.TensorInfo,
          inputs.b as tf.TensorInfo,
          backend,
          attrs as unknown as MatMulAttrs,
        ),
    });
  }
  tf.registerGradient({
    kernelName: NATIVE_MATMUL,
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved, attrs) => {
      const [a, b] = saved as [tf.Tensor2D, tf.Tensor2D];
      const { transposeA, transposeB, threads } = attrs as unknown as MatMulAttrs;
      const mm: TransposedProduct = (x, y, tx, ty) => nativeMatMul(addon, x, y, tx, ty, threads);
      return matMulGradients(a, b, dy as tf.Tensor2D, transposeA, transposeB, mm);
    },
  });
}

function product(a: tf.TensorInfo, b: tf.TensorInfo, backend: unknown, attrs: MatMulAttrs): tf.TensorInfo {
  const addon = kernelAddon as NativeAddon;
  const { transposeA: ta, transposeB: tb, threads } = attrs;
  const m = (ta ? a.shape[1] : a.shape[0]) as number;
  const k = (ta ? a.shape[0] : a.shape[1]) as number;
  const n = (tb ? b.shape[0] : b.shape[1]) as number;
  if (typeof (backend as Partial<HeapBackend>).typedArrayFromHeap === 'function') {
    const heap = backend as HeapBackend;
    // Allocate first: a heap allocation may grow the wasm memory, which invalidates earlier views.
    const out = heap.makeOutput([m, n], 'float32');
    const c = heap.typedArrayFromHeap(out);
    addon.gemm(m, n, k, heap.typedArrayFromHeap(a), ta, heap.typedArrayFromHeap(b), tb, c, false, threads);
    return out;
  }
  const values = backend as ValuesBackend;
  const c = new Float32Array(m * n);
  addon.gemm(m, n, k, values.readSync(a.dataId), ta, values.readSync(b.dataId), tb, c, false, threads);
  return values.makeTensorInfo([m, n], 'float32', c);
}
