import { HeapCall } from './heap-call.js';
import { indexError } from './kernel-checks.js';
import type { KernelHeap } from './kernel-heap.js';
import type { KernelRunner } from './kernel-runner.js';
import type { ExpertsBackwardArgs, ExpertsForwardArgs, ExpertTableView } from './peer-kernels.js';
import type { PeerSimdExports } from './simd-module.js';

/** Below this many (token, slot) pairs a second thread costs more (wake-up ~10-50 us) than it saves. */
const SPLIT_MIN_SLOTS = 2048;

/** Binds a table's rows [0, numExperts) (zero-copy when the table lives in the heap). */
function bindTable(call: HeapCall, table: ExpertTableView, d: number, numExperts: number): number {
  return call.input(table.data.subarray(table.offset, table.offset + numExperts * d), numExperts * d);
}

/** Throws the typed error for the first id outside [0, limit), checked in wasm before any gather. */
export function checkIdsInWasm(
  wasm: PeerSimdExports,
  heap: KernelHeap,
  ptr: number,
  field: string,
  count: number,
  limit: number,
): void {
  const bad = wasm.firstOutOfRange(ptr, count, limit);
  if (bad >= 0) throw indexError(field, bad, heap.i32(ptr, count)[bad] as number, limit);
}

/** expertsForward (`backward` false) or expertsBackward on the wasm kernels, split over tokens when large. */
export function runExperts(
  wasm: PeerSimdExports,
  runner: KernelRunner,
  heap: KernelHeap,
  args: ExpertsForwardArgs | ExpertsBackwardArgs,
  numExperts: number,
): void {
  const { tokens, d, slots, activation } = args;
  const n = tokens * slots;
  const call = new HeapCall(heap);
  const ids = call.input(args.ids, n);
  const gates = call.input(args.gates, n);
  const u = bindTable(call, args.u, d, numExperts);
  const v = bindTable(call, args.v, d, numExperts);
  const split = n >= SPLIT_MIN_SLOTS;
  // Row pointers of a token range: [from, to) tokens of a [tokens, width] array.
  const at = (handle: number, width: number, from: number): number => call.ptr(handle) + from * width * 4;
  if (!('dy' in args)) {
    const x = call.input(args.x, tokens * d);
    const out = call.output(args.out, tokens * d);
    const preact = call.output(args.preact, n);
    call.run(() => {
      checkIdsInWasm(wasm, heap, call.ptr(ids), 'ids', n, numExperts);
      runner.run('expertsForward', tokens, split, (from, to) => [
        at(x, d, from),
        to - from,
        d,
        at(ids, slots, from),
        at(gates, slots, from),
        slots,
        call.ptr(u),
        call.ptr(v),
        activation,
        at(out, d, from),
        at(preact, slots, from),
      ]);
    });
    return;
  }
  const dy = call.input(args.dy, tokens * d);
  const preact = call.input(args.preact, n);
  const dx = call.output(args.dx, tokens * d);
  const dgates = call.output(args.dgates, n);
  const coefU = call.output(args.coefU, n);
  const coefV = call.output(args.coefV, n);
  call.run(() => {
    checkIdsInWasm(wasm, heap, call.ptr(ids), 'ids', n, numExperts);
    runner.run('expertsBackward', tokens, split, (from, to) => [
      at(dy, d, from),
      to - from,
      d,
      at(ids, slots, from),
      at(gates, slots, from),
      slots,
      call.ptr(u),
      call.ptr(v),
      at(preact, slots, from),
      activation,
      at(dx, d, from),
      at(dgates, slots, from),
      at(coefU, slots, from),
      at(coefV, slots, from),
    ]);
  });
}
