export { type ClassifierManifest, deserializeClassifier, serializeClassifier } from './classifier-blocks.js';
export {
  type PeerLayerState,
  peerLayerBlocks,
  peerLayerFromBlocks,
  peerLayerState,
  restorePeerLayer,
} from './peer-layer-blocks.js';
export {
  type BlockDType,
  BYTES_PER_ELEMENT,
  type SerializedModel,
  type TensorBlock,
} from './tensor-block.js';
