export { type PeerLayerState, peerLayerBlocks, peerLayerFromBlocks, peerLayerState } from './peer-layer-blocks.js';
export { BYTES_PER_ELEMENT, type BlockDType, type SerializedModel, type TensorBlock } from './tensor-block.js';
