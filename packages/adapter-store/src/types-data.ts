// Public data types of streams, the ingest ledger, replay reservoirs, adapters and regularization state
// (versions, blocks and aliases are in types.ts).
import type { TensorBlock } from '@peer/core/serialization';
import type { JsonObject, JsonValue, Lineage, Version } from './types.js';

/** A data stream feeding one model. */
export interface Stream {
  readonly id: string;
  readonly modelId: string;
  readonly name: string;
  readonly nextOffset: number;
  readonly createdAt: Date;
}

/** Input of `recordBatch`. */
export interface BatchInput {
  readonly streamId: string;
  /** Client-chosen key; replaying it returns the first receipt and stores nothing twice. */
  readonly idempotencyKey: string;
  readonly records: readonly JsonValue[];
  /** Also offer the records to the stream's replay reservoir, in the same transaction. */
  readonly sampleReplay?: boolean;
  /**
   * Store the batch as `pending`: durable, but not yet acknowledged to the client, so never trained on and
   * not offered to the replay reservoir until `acknowledgeBatch` (a request cut off before its answer
   * leaves only pending batches, which a retry with the same key acknowledges).
   */
  readonly pending?: boolean;
}

/** The durable acknowledgement of a batch. */
export interface BatchReceipt {
  readonly batchId: string;
  readonly streamId: string;
  readonly idempotencyKey: string;
  readonly firstOffset: number;
  readonly recordCount: number;
  /** sha256 (hex) of the records' JSON texts joined by '\n'. */
  readonly checksum: string;
  readonly status: BatchStatus;
  readonly createdAt: Date;
  /** True when this call replayed an existing key (nothing was written). */
  readonly replayed: boolean;
}

/** Lifecycle of a batch: stored (`pending`) → `acknowledged` to the client → `consumed` by training, or `discarded`. */
export type BatchStatus = 'pending' | 'acknowledged' | 'consumed' | 'discarded';

/** A stored record with its stream offset. */
export interface StreamRecord {
  readonly offset: number;
  readonly data: JsonValue;
}

/** A replay reservoir's state. */
export interface ReplayState {
  readonly streamId: string;
  readonly capacity: number;
  /** Items offered so far (the `t` of Algorithm R). */
  readonly seen: number;
  readonly size: number;
}

/** One sampled item and its index in the sequence of offered items. */
export interface ReplayItem {
  readonly slot: number;
  readonly sourceIndex: number;
  readonly item: JsonValue;
}

/** Input of `commitAdapterVersion`: a LoRA adapter `ΔW = (alpha / rank) · B · A`. */
export interface AdapterCommitInput {
  readonly adapterId: string;
  readonly parentId: string | null;
  readonly expectedHeadId?: string | null;
  readonly rank: number;
  readonly alpha: number;
  /** `A: [rank, dIn]`, row-major float32. */
  readonly a: Float32Array;
  /** `B: [dOut, rank]`, row-major float32. */
  readonly b: Float32Array;
  readonly dIn: number;
  readonly dOut: number;
  /** Retrieval key (e.g. the mean query of the adapter's training data). */
  readonly retrievalKey: Float32Array;
  readonly lineage?: Partial<Lineage>;
  readonly metrics?: JsonObject;
  readonly message?: string;
  readonly author?: string;
}

/** A loaded adapter version. */
export interface AdapterVersion {
  readonly version: Version;
  readonly adapterId: string;
  readonly name: string;
  readonly targetLayer: string;
  readonly rank: number;
  readonly alpha: number;
  readonly dIn: number;
  readonly dOut: number;
  readonly a: Float32Array;
  readonly b: Float32Array;
  readonly retrievalKey: Float32Array;
}

/** An adapter's head, for retrieval by key without loading A/B. */
export interface AdapterKey {
  readonly adapterId: string;
  readonly name: string;
  readonly targetLayer: string;
  readonly versionId: string;
  readonly rank: number;
  readonly alpha: number;
  readonly retrievalKey: Float32Array;
}

/** Regularization state of a version (EWC, L2-SP, ...). */
export interface RegularizationState {
  readonly versionId: string;
  readonly method: string;
  readonly meta: JsonValue;
  readonly tensors: readonly TensorBlock[];
}
