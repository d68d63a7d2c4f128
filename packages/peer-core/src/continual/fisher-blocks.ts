import type { PeerClassifier } from '../models/classifier.js';
import type { TensorBlock } from '../serialization/tensor-block.js';
import type { FisherDiagonal } from './fisher.js';
import { blockValues, classifierExpertTables, classifierVariables, floatBlock } from './model-parameters.js';

/** A Fisher diagonal as named blocks (the names of the parameters it belongs to). */
export function fisherBlocks(model: PeerClassifier, fisher: FisherDiagonal): TensorBlock[] {
  const blocks: TensorBlock[] = [];
  for (const { name, variable } of classifierVariables(model)) {
    const values = fisher.variables.get(variable);
    if (values) blocks.push(floatBlock(name, variable.shape, values));
  }
  for (const t of classifierExpertTables(model)) {
    const values = fisher.experts.get(t.layer)?.[t.table];
    if (values)
      blocks.push(floatBlock(t.name, [values.length / t.layer.experts.d, t.layer.experts.d], values));
  }
  return blocks;
}

/**
 * Online EWC's running Fisher (Schwarz et al. 2018, "Progress & Compress", §2.2): F = decay * F_old + F_new,
 * by parameter name. An expert table that grew since F_old is zero-padded (its new rows had no old Fisher).
 */
export function mergeFisher(
  old: readonly TensorBlock[],
  next: readonly TensorBlock[],
  decay: number,
): TensorBlock[] {
  const byName = new Map(old.map((b) => [b.name, b]));
  const out: TensorBlock[] = [];
  for (const block of next) {
    const previous = byName.get(block.name);
    byName.delete(block.name);
    const values = blockValues(block);
    if (previous) {
      const prior = blockValues(previous);
      const n = Math.min(prior.length, values.length);
      for (let i = 0; i < n; i++) values[i] = decay * (prior[i] ?? 0) + (values[i] ?? 0);
    }
    out.push(floatBlock(block.name, block.shape, values));
  }
  for (const block of byName.values())
    out.push(
      floatBlock(
        block.name,
        block.shape,
        blockValues(block).map((v) => decay * v),
      ),
    );
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
