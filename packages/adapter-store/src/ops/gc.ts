import { and, eq, notExists } from 'drizzle-orm';
import { blocks, regularizationBlocks, versionBlocks } from '../schema/index.js';
import type { GcResult } from '../types.js';
import { guard, lockBlocksExclusive, type StoreContext } from './context.js';

/**
 * Deletes blocks no version manifest and no regularization state references. Holds the blocks lock
 * exclusively, so no commit can be between "this hash already exists, reuse it" and inserting the
 * reference while blocks disappear (commits hold it shared).
 */
export async function collectGarbage(ctx: StoreContext): Promise<GcResult> {
  return guard(ctx, 'collectGarbage', () =>
    ctx.driver.transaction(async (tx) => {
      await lockBlocksExclusive(tx.db);
      const usedByVersion = tx.db
        .select({ one: versionBlocks.name })
        .from(versionBlocks)
        .where(eq(versionBlocks.blockHash, blocks.hash));
      const usedByState = tx.db
        .select({ one: regularizationBlocks.name })
        .from(regularizationBlocks)
        .where(eq(regularizationBlocks.blockHash, blocks.hash));
      const deleted = await tx.db
        .delete(blocks)
        .where(and(notExists(usedByVersion), notExists(usedByState)))
        .returning({ bytes: blocks.byteLength });
      return { deletedBlocks: deleted.length, freedBytes: deleted.reduce((n, r) => n + r.bytes, 0) };
    }),
  );
}
