// Entry point of peer-simd.wasm. Every pointer argument is a byte address chosen by JS (KernelHeap); the
// module allocates nothing and imports its memory, so one memory can hold tables larger than 2 GiB
// (pointers are usize = u32 here; JS may pass them as negative i32).
export { expertsBackward, expertsForward } from './experts';
export { zeroBytes } from './memory-ops';
export { productTopk } from './product-topk';
export { firstOutOfRange, scatterRank1 } from './scatter';
export { topkRows } from './topk-rows';
