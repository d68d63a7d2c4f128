import { PeerConfigError } from '../errors/peer-error.js';
import { createRandom, type Random } from '../util/random.js';

/**
 * Seeded mini-batch indices without replacement inside an epoch: every example is seen once per epoch
 * in a fresh random order (Fisher–Yates), and a batch that crosses an epoch boundary continues into the
 * next shuffle. Same seed, same batches.
 *
 * @example const sampler = new BatchSampler(train.size, 1); const idx = sampler.next(64);
 */
export class BatchSampler {
  private readonly rng: Random;
  private readonly order: Int32Array;
  private position: number;
  private epochCount = 0;

  constructor(
    readonly size: number,
    seed: number,
  ) {
    if (!Number.isInteger(size) || size < 1) throw new PeerConfigError('size', 'an integer >= 1', size);
    this.rng = createRandom(seed);
    this.order = Int32Array.from({ length: size }, (_, i) => i);
    this.position = size; // the first call shuffles
  }

  /** Completed shuffles so far (1 after the first batch). */
  get epoch(): number {
    return this.epochCount;
  }

  /** The next `batchSize` example indices. */
  next(batchSize: number): Int32Array {
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new PeerConfigError('batchSize', 'an integer >= 1', batchSize);
    }
    const out = new Int32Array(batchSize);
    for (let i = 0; i < batchSize; i++) {
      if (this.position === this.size) this.shuffle();
      out[i] = this.order[this.position++] ?? 0;
    }
    return out;
  }

  private shuffle(): void {
    const o = this.order;
    for (let i = o.length - 1; i > 0; i--) {
      const j = this.rng.int(i + 1);
      const t = o[i] ?? 0;
      o[i] = o[j] ?? 0;
      o[j] = t;
    }
    this.position = 0;
    this.epochCount++;
  }
}

/** Rows `indices` of a row-major matrix [rows, width], as a new [indices.length, width] array. */
export function gatherRows(data: Float32Array, width: number, indices: ArrayLike<number>): Float32Array {
  const out = new Float32Array(indices.length * width);
  for (let i = 0; i < indices.length; i++) {
    const r = indices[i] ?? 0;
    out.set(data.subarray(r * width, (r + 1) * width), i * width);
  }
  return out;
}

/** Elements `indices` of `values`. */
export function gatherLabels(values: Int32Array, indices: ArrayLike<number>): Int32Array {
  const out = new Int32Array(indices.length);
  for (let i = 0; i < indices.length; i++) out[i] = values[indices[i] ?? 0] ?? 0;
  return out;
}

/**
 * `batch` random windows of `length` consecutive tokens from `corpus`, row-major [batch, length]
 * (nanoGPT's `get_batch`, with length = block_size + 1 so inputs and targets come from one window).
 */
export function sampleWindows(corpus: Int32Array, batch: number, length: number, rng: Random): Int32Array {
  if (length > corpus.length) {
    throw new PeerConfigError('length', `<= corpus length (${corpus.length})`, length);
  }
  const out = new Int32Array(batch * length);
  const starts = corpus.length - length + 1;
  for (let b = 0; b < batch; b++) {
    const s = rng.int(starts);
    out.set(corpus.subarray(s, s + length), b * length);
  }
  return out;
}
