import type { KernelHeap } from '../../src/kernels/kernel-heap.js';
import type { ActivationCode, PeerKernels } from '../../src/kernels/peer-kernels.js';
import type { Random } from '../../src/util/random.js';
import { ids, inHeap, uniform } from './kernel-helpers.js';

/** One expert-kernel problem: inputs only; outputs are allocated per run. */
export interface ExpertCase {
  tokens: number;
  slots: number;
  d: number;
  activation: ActivationCode;
  x: Float32Array;
  dy: Float32Array;
  ids: Int32Array;
  gates: Float32Array;
  /** Tables with a few padding elements in front: rows start at `offset`. */
  u: Float32Array;
  v: Float32Array;
  offset: number;
}

export function makeCase(
  rng: Random,
  o: { tokens: number; slots: number; d: number; numExperts: number; activation: ActivationCode },
): ExpertCase {
  const offset = rng.int(5);
  const n = o.tokens * o.slots;
  const gates = uniform(rng, n);
  // Some exact zeros: their rows must be skipped identically by both kernels.
  for (let i = 0; i < n; i += 1 + rng.int(9)) gates[i] = 0;
  return {
    ...o,
    x: uniform(rng, o.tokens * o.d),
    dy: uniform(rng, o.tokens * o.d),
    ids: ids(rng, n, o.numExperts),
    gates,
    u: uniform(rng, offset + o.numExperts * o.d),
    v: uniform(rng, offset + o.numExperts * o.d),
    offset,
  };
}

/** The tables (and, with `everything`, every input) copied into the heap. */
export function moveToHeap(heap: KernelHeap, c: ExpertCase, everything: boolean): ExpertCase {
  const move = <T extends Float32Array | Int32Array>(a: T): T => (everything ? inHeap(heap, a) : a);
  return {
    ...c,
    u: inHeap(heap, c.u),
    v: inHeap(heap, c.v),
    x: move(c.x),
    dy: move(c.dy),
    ids: move(c.ids),
    gates: move(c.gates),
  };
}

function output(n: number, heap?: KernelHeap): Float32Array {
  return heap ? inHeap(heap, new Float32Array(n)) : new Float32Array(n);
}

/** Runs expertsForward; outputs live in `heap` when given. */
export function runForward(kernels: PeerKernels, c: ExpertCase, heap?: KernelHeap) {
  const out = output(c.tokens * c.d, heap);
  const preact = output(c.tokens * c.slots, heap);
  kernels.expertsForward({
    x: c.x,
    tokens: c.tokens,
    d: c.d,
    ids: c.ids,
    gates: c.gates,
    slots: c.slots,
    u: { data: c.u, offset: c.offset },
    v: { data: c.v, offset: c.offset },
    activation: c.activation,
    out,
    preact,
  });
  return { out, preact };
}

export function runBackward(
  kernels: PeerKernels,
  c: ExpertCase & { preact: Float32Array },
  heap?: KernelHeap,
) {
  const n = c.tokens * c.slots;
  const res = {
    dx: output(c.tokens * c.d, heap),
    dgates: output(n, heap),
    coefU: output(n, heap),
    coefV: output(n, heap),
  };
  kernels.expertsBackward({
    x: c.x,
    dy: c.dy,
    tokens: c.tokens,
    d: c.d,
    ids: c.ids,
    gates: c.gates,
    slots: c.slots,
    u: { data: c.u, offset: c.offset },
    v: { data: c.v, offset: c.offset },
    preact: c.preact,
    activation: c.activation,
    ...res,
  });
  return res;
}
