import type { BlockDType, TensorBlock } from '@peer/core/serialization';

/** A JSON value as stored in `jsonb`/`json` columns. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
/** A JSON object. */
export type JsonObject = { [key: string]: JsonValue };

/** A customer owning models. */
export interface Tenant {
  readonly id: string;
  readonly name: string;
  readonly createdAt: Date;
}

/** A versioned line: a model, or (kind 'adapter') a LoRA adapter of `baseModelId`. */
export interface Model {
  readonly id: string;
  readonly tenantId: string;
  readonly kind: 'model' | 'adapter';
  readonly baseModelId: string | null;
  readonly name: string;
  readonly config: JsonValue;
  /** The latest committed version of this line; the next commit must name it (optimistic concurrency). */
  readonly headVersionId: string | null;
  readonly versionCount: number;
  readonly createdAt: Date;
}

/** Which data produced a version. */
export interface Lineage {
  readonly streamId: string | null;
  /** First ingest offset consumed (inclusive). */
  readonly ingestFrom: number | null;
  /** Last ingest offset consumed (exclusive). */
  readonly ingestTo: number | null;
  /** Anything else worth keeping (job id, trainer settings, plugins on). */
  readonly extra: JsonObject;
}

/** An immutable commit. */
export interface Version {
  readonly id: string;
  readonly modelId: string;
  readonly parentId: string | null;
  /** 1, 2, 3, ... per line, in commit order. */
  readonly seq: number;
  readonly config: JsonValue;
  readonly lineage: Lineage;
  readonly metrics: JsonObject;
  readonly message: string;
  readonly author: string;
  readonly blockCount: number;
  readonly totalBytes: number;
  /** sha256 of the sorted manifest: equal content ⇔ equal hash, whatever the version id. */
  readonly contentHash: string;
  readonly createdAt: Date;
}

/** One named block of a version (or regularization state), without its bytes. */
export interface ManifestEntry {
  readonly name: string;
  readonly hash: string;
  readonly dtype: BlockDType;
  readonly shape: readonly number[];
  readonly byteLength: number;
}

/** Blocks as input: any (async) iterable, consumed once, so a 2 GiB layer never sits in memory whole. */
export type BlockSource = Iterable<TensorBlock> | AsyncIterable<TensorBlock>;

/** Input of `commitVersion`. */
export interface CommitInput {
  readonly modelId: string;
  /** The version this one derives from (null for the first version of a line). */
  readonly parentId: string | null;
  /**
   * The head the caller saw; defaults to `parentId`. Set it to branch from an older version (after a
   * rollback) while still failing if someone else committed meanwhile.
   */
  readonly expectedHeadId?: string | null;
  /**
   * New or changed blocks; every other block of the parent is carried over by reference. Consumed
   * once, in rounds; a block's bytes are referenced, not copied, so do not reuse a yielded buffer
   * before the commit resolves.
   */
  readonly blocks: BlockSource;
  /** Names of parent blocks to drop. */
  readonly removeBlocks?: readonly string[];
  /** The model config of this version (defaults to the parent's, or the model's for a first version). */
  readonly config?: JsonValue;
  readonly lineage?: Partial<Lineage>;
  readonly metrics?: JsonObject;
  readonly message?: string;
  readonly author?: string;
}

/** What a commit wrote. */
export interface CommitResult {
  readonly version: Version;
  /** Blocks whose bytes were inserted by this commit. */
  readonly writtenBlocks: number;
  readonly writtenBytes: number;
  /** Blocks of the input that already existed (deduplicated by hash). */
  readonly reusedBlocks: number;
  /** Manifest entries carried over from the parent without touching their bytes. */
  readonly inheritedBlocks: number;
}

/** Difference between two versions' manifests. */
export interface VersionDiff {
  readonly fromId: string;
  readonly toId: string;
  readonly added: readonly ManifestEntry[];
  readonly removed: readonly ManifestEntry[];
  /** Same name, different bytes (or dtype/shape). */
  readonly changed: ReadonlyArray<{ readonly from: ManifestEntry; readonly to: ManifestEntry }>;
  readonly unchanged: number;
  /** Per row-sliced table (`<table>.rows.<start>-<end>` blocks): the sub-key row ranges that differ. */
  readonly rows: ReadonlyArray<{
    readonly table: string;
    readonly ranges: ReadonlyArray<readonly [number, number]>;
  }>;
}

/** A named pointer to a version. */
export interface Alias {
  readonly modelId: string;
  readonly name: string;
  readonly versionId: string;
  readonly updatedAt: Date;
}

/** Payload (as JSON) of a notification on `ALIAS_CHANNEL`: the alias now points at `versionId`. */
export interface AliasNotification {
  readonly modelId: string;
  readonly name: string;
  readonly versionId: string;
}

/** One logged alias move (`fromVersionId` null = created). */
export interface AliasMove {
  readonly id: number;
  readonly modelId: string;
  readonly name: string;
  readonly fromVersionId: string | null;
  readonly toVersionId: string | null;
  readonly actor: string;
  readonly reason: string;
  readonly at: Date;
}

/** Result of a garbage collection. */
export interface GcResult {
  readonly deletedBlocks: number;
  readonly freedBytes: number;
}
