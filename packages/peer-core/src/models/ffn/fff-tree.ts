import * as tf from '@tensorflow/tfjs';
import { PeerShapeError } from '../../errors/peer-error.js';

/*
 * The tree of a fast feed-forward network (Belcak & Wattenhofer 2023) in heap order: node n has children
 * 2n + 1 (left, decision 0) and 2n + 2 (right, decision 1); a tree of depth D has 2^D − 1 nodes and 2^D
 * leaves, and leaf ℓ is the one whose path, read root first, spells ℓ in binary (left = 0).
 */

/**
 * Soft leaf probabilities [tokens, 2^depth] from node logits [tokens, 2^depth − 1] (training mode): each node
 * sends its mass right with probability σ(logit) and left with 1 − σ(logit), so a leaf gets the product of
 * the decisions on its path and every row sums to 1. Differentiable.
 */
export function softLeafProbabilities(nodeLogits: tf.Tensor2D, depth: number): tf.Tensor2D {
  const [tokens, nodes] = nodeLogits.shape;
  if (nodes !== 2 ** depth - 1) {
    throw new PeerShapeError(`softLeafProbabilities: ${nodes} node logits for a tree of depth ${depth}`);
  }
  return tf.tidy(() => {
    const right = tf.sigmoid(nodeLogits);
    let mass: tf.Tensor2D = tf.ones([tokens, 1]);
    for (let level = 0; level < depth; level++) {
      const width = 2 ** level;
      const p = right.slice([0, width - 1], [tokens, width]); // this level's nodes, left to right
      const left = mass.mul(tf.sub(1, p));
      const rightMass = mass.mul(p);
      mass = tf.stack([left, rightMass], 2).reshape([tokens, 2 * width]) as tf.Tensor2D; // [T, w, 2] -> [T, 2w]
    }
    return mass;
  });
}

/**
 * Hard descent (inference): from the root, go right where the node logit is > 0 (σ > 1/2), else left.
 * Returns each token's leaf index; reads only `depth` of the 2^depth − 1 node logits per token.
 *
 * @param nodeLogits row-major [tokens, 2^depth − 1]
 */
export function descendTree(nodeLogits: Float32Array, tokens: number, depth: number): Int32Array {
  const nodes = 2 ** depth - 1;
  if (nodeLogits.length !== tokens * nodes) {
    throw new PeerShapeError(
      `descendTree: ${nodeLogits.length} logits for ${tokens} tokens x ${nodes} nodes`,
    );
  }
  const leaves = new Int32Array(tokens);
  for (let t = 0; t < tokens; t++) {
    let node = 0;
    for (let level = 0; level < depth; level++) {
      node = 2 * node + ((nodeLogits[t * nodes + node] ?? 0) > 0 ? 2 : 1);
    }
    leaves[t] = node - nodes; // leaves follow the internal nodes in heap order
  }
  return leaves;
}

/**
 * Mean binary entropy (nats) of all node decisions: the "hardening" penalty that drives the soft decisions
 * towards 0/1 so the hard inference descent matches what training optimised (Belcak & Wattenhofer 2023 §3).
 */
export function decisionEntropy(nodeLogits: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    // H(σ(z)) = softplus(z) − z·σ(z), stable for large |z|.
    return tf
      .softplus(nodeLogits)
      .sub(nodeLogits.mul(tf.sigmoid(nodeLogits)))
      .mean() as tf.Scalar;
  });
}
