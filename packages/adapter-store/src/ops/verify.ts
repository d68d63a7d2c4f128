import { BlockIntegrityError } from '../errors.js';
import { streamBlocks } from './block-reader.js';
import { guard, type StoreContext } from './context.js';
import { manifestHash, readManifest } from './manifest.js';
import { getVersion } from './versions.js';

/** What `verifyVersion` checked. */
export interface VerifyReport {
  readonly versionId: string;
  readonly blocks: number;
  readonly bytes: number;
}

/**
 * Full integrity check of one version (an fsck): the manifest matches the version row (block count,
 * total bytes, content hash) and every block's bytes match their sha256 (skipped with `data: false`).
 * Throws `BlockIntegrityError`.
 */
export async function verifyVersion(
  ctx: StoreContext,
  versionId: string,
  options: { data?: boolean } = {},
): Promise<VerifyReport> {
  return guard(ctx, 'verifyVersion', async () => {
    const version = await getVersion(ctx, versionId);
    const manifest = await readManifest(ctx.driver.db, versionId);
    const total = manifest.reduce((n, e) => n + e.byteLength, 0);
    const hash = manifestHash(manifest);
    if (
      manifest.length !== version.blockCount ||
      total !== version.totalBytes ||
      hash !== version.contentHash
    ) {
      const detail = `${manifest.length} blocks / ${total} bytes / ${hash} stored vs ${version.blockCount} / ${version.totalBytes} / ${version.contentHash} committed`;
      throw new BlockIntegrityError(
        ctx.name,
        `manifest of version ${versionId}`,
        version.contentHash,
        'manifest_mismatch',
        detail,
      );
    }
    if (options.data === false) return { versionId, blocks: manifest.length, bytes: total };
    let blocks = 0;
    let bytes = 0;
    for await (const block of streamBlocks(ctx, manifest)) {
      blocks++;
      bytes += block.bytes.byteLength;
    }
    return { versionId, blocks, bytes };
  });
}
