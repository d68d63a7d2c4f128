export { BYTES_PER_ELEMENT, type BlockDType, type SerializedModel, type TensorBlock } from './tensor-block.js';
