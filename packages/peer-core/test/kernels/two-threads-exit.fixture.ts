// Run by two-threads.test.ts in a child process: must print "done" and exit on its own with a worker alive.
import { createSimdKernels } from '../../src/kernels/simd-kernels.js';

const kernels = createSimdKernels(undefined, { threads: 2 });
const rows = 512;
const cols = 256;
const scores = new Float32Array(rows * cols).map((_, i) => Math.sin(i));
kernels.topkRows(scores, rows, cols, 4, new Int32Array(rows * 4), new Float32Array(rows * 4));
console.log('done');
