import { PeerConfigError } from '../errors/peer-error.js';
import type { KernelHeap } from '../kernels/kernel-heap.js';
import type { ExpertTableView } from '../kernels/peer-kernels.js';
import type { Random } from '../util/random.js';

/**
 * The expert weights of a PEER layer: `U` (input weights u_i) and `V` (output weights v_i), each
 * [capacityRows * cols, d] float32 in the kernel heap, allocated once at capacity so that growth appends
 * rows in O(new rows) without moving old experts (fresh wasm pages are zero and cost no memory until touched).
 * Expert id `i * cols + j` lives at row `id` of both tables.
 */
export class ExpertTables {
  readonly cols: number;
  readonly d: number;
  readonly capacityRows: number;
  private activeRows: number;
  private readonly uPtr: number;
  private readonly vPtr: number;

  constructor(
    private readonly heap: KernelHeap,
    options: { rows: number; cols: number; capacityRows: number; d: number },
  ) {
    this.cols = options.cols;
    this.d = options.d;
    this.capacityRows = options.capacityRows;
    this.activeRows = options.rows;
    const bytes = this.capacityRows * this.cols * this.d * 4;
    this.uPtr = heap.allocZeroed(bytes);
    this.vPtr = heap.allocZeroed(bytes);
  }

  /** Active sub-key rows (experts = rows * cols). */
  get rows(): number {
    return this.activeRows;
  }

  get numExperts(): number {
    return this.activeRows * this.cols;
  }

  /** Elements of one sub-key row of one table (cols experts of width d). */
  get rowElements(): number {
    return this.cols * this.d;
  }

  /** Fresh views (heap growth detaches old ones: never keep these across allocations). */
  get u(): ExpertTableView {
    return { data: this.heap.f32(this.uPtr, this.capacityRows * this.rowElements), offset: 0 };
  }

  get v(): ExpertTableView {
    return { data: this.heap.f32(this.vPtr, this.capacityRows * this.rowElements), offset: 0 };
  }

  /** The elements of sub-key rows [from, to) of one table. */
  rowRange(table: 'u' | 'v', from: number, to: number): Float32Array {
    this.checkRowRange(from, to);
    const view = table === 'u' ? this.u.data : this.v.data;
    return view.subarray(from * this.rowElements, to * this.rowElements);
  }

  /** Activates `count` more rows (their weights must then be set by the caller). */
  appendRows(count: number): { from: number; to: number } {
    if (this.activeRows + count > this.capacityRows) {
      throw new PeerConfigError(
        'rows',
        `<= capacityRows (${this.capacityRows}) after growth`,
        this.activeRows + count,
      );
    }
    const from = this.activeRows;
    this.activeRows += count;
    return { from, to: this.activeRows };
  }

  /**
   * Initialises rows [from, to): u ~ N(0, 1/d) keeps u.x at unit scale; v ~ N(0, vStd^2) — small or zero
   * so that new experts start close to zero output (DESIGN §2).
   */
  initRows(from: number, to: number, rng: Random, vStd: number): void {
    rng.fillNormal(this.rowRange('u', from, to), 1 / Math.sqrt(this.d));
    const v = this.rowRange('v', from, to);
    if (vStd === 0) v.fill(0);
    else rng.fillNormal(v, vStd);
  }

  /** Releases the heap memory; the tables are unusable afterwards. */
  dispose(): void {
    this.heap.free(this.uPtr);
    this.heap.free(this.vPtr);
  }

  private checkRowRange(from: number, to: number): void {
    if (!Number.isInteger(from) || from < 0 || from > to || to > this.activeRows) {
      throw new PeerConfigError('rows', `a range within [0, ${this.activeRows}]`, [from, to]);
    }
  }
}
