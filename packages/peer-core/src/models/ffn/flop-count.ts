import type { CharTransformerConfig } from '../char-transformer-config.js';
import type { FeedForwardKind } from '../feed-forward.js';

/**
 * Floating-point operations of one token, split into forward and backward. Conventions (Kaplan et al.
 * 2020 §2.1): a multiply-add is 2 FLOPs; only matmul-like work is counted (layer norms, activations,
 * softmaxes and optimizer updates are O(d) per token and left out); the backward of a dense matmul costs
 * twice its forward (one product for the input gradient, one for the weight gradient).
 */
export interface TokenFlops {
  readonly forward: number;
  readonly backward: number;
}

/** forward + backward: the training FLOPs of one token. */
export const trainingFlops = (f: TokenFlops): number => f.forward + f.backward;

/**
 * FLOPs per token of the FFN kind `kind` of width d = `c.dModel`, in training mode (what a training step
 * spends). With n_r × n_c product keys, h heads, top-k, key width d_k:
 * - dense (hidden H):   F = 4dH;  B = 8dH.
 * - moe (E experts of hidden m, top-k): F = 2dE (router) [+ 2dE noise net] + k·4dm;  B = 2F. Only the k chosen
 *   experts run (sparse dispatch), so E does not multiply the expert term.
 * - peer: F = 2·d·h·d_k (query) + h·(n_r + n_c)·d_k (sub-key scores) + h·k² (candidate sums) + h·k·4d (each
 *   expert: u·x and the scaled v);  B = 4·d·h·d_k + 4·h·k·d_k (the score gradient reaches only the k selected
 *   sub-key pairs) + h·k·8d.
 * - pkm: as peer but a value is only scaled and summed: experts term h·k·2d forward, h·k·4d backward.
 * - fff (depth D, L = 2^D leaves of width w): training runs the soft mixture over all leaves,
 *   F = 2d(L − 1) + L·4dw + 2Ld (leaf biases);  B = 2F.  (Inference: 2dD + 4dw, see {@link fffInferenceFlops}.)
 */
export function ffnTokenFlops(kind: FeedForwardKind, c: CharTransformerConfig): TokenFlops {
  const d = c.dModel;
  switch (kind) {
    case 'dense': {
      const hidden = c.ffnMultiplier * d;
      return { forward: 4 * d * hidden, backward: 8 * d * hidden };
    }
    case 'moe': {
      const { experts, topK, expertHidden, noisy } = c.moe;
      const router = (noisy ? 2 : 1) * 2 * d * experts;
      const forward = router + topK * 4 * d * expertHidden;
      return { forward, backward: 2 * forward };
    }
    case 'peer':
    case 'pkm': {
      const p = kind === 'peer' ? c.peer : c.pkm;
      const slots = p.heads * p.topK;
      const query = 2 * d * p.heads * p.dKey;
      const scores = p.heads * (p.subKeyRows + p.subKeyCols) * p.dKey;
      const candidates = p.heads * p.topK * p.topK;
      const experts = kind === 'peer' ? slots * 4 * d : slots * 2 * d;
      return {
        forward: query + scores + candidates + experts,
        backward: 2 * query + 4 * slots * p.dKey + 2 * experts,
      };
    }
    case 'fff': {
      const leaves = 2 ** c.fff.depth;
      const forward = 2 * d * (leaves - 1) + leaves * 4 * d * c.fff.leafWidth + 2 * leaves * d;
      return { forward, backward: 2 * forward };
    }
  }
}

/** Inference FLOPs per token of an FFF: `depth` node neurons and one leaf (its conditional-execution saving). */
export function fffInferenceFlops(c: CharTransformerConfig): number {
  return 2 * c.dModel * c.fff.depth + 4 * c.dModel * c.fff.leafWidth + 2 * c.dModel;
}

/**
 * Training FLOPs per token of a whole {@link CharTransformer}: per block QKV and output projections (4d²
 * multiply-adds) and the attention scores and mix over the full context T (2Td; the causal mask is
 * applied to a full T×T product), its FFN (dense except the middle block's `c.ffn`), and the output
 * projection d·V. Forward FLOPs = 2 × multiply-adds; backward = 2 × forward for all of these.
 */
export function charTransformerTokenFlops(c: CharTransformerConfig): TokenFlops {
  const d = c.dModel;
  const t = c.contextLength;
  const middle = Math.floor(c.layers / 2);
  let forward = 2 * d * c.vocabSize;
  let backward = 2 * forward;
  for (let i = 0; i < c.layers; i++) {
    const attention = 2 * (4 * d * d + 2 * t * d);
    const ffn = ffnTokenFlops(i === middle ? c.ffn : 'dense', c);
    forward += attention + ffn.forward;
    backward += 2 * attention + ffn.backward;
  }
  return { forward, backward };
}
