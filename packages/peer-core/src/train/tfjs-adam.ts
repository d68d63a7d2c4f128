import type * as tf from '@tensorflow/tfjs';
import { train } from '@tensorflow/tfjs';
import type { AdamOptions, VariableAdam } from './dense-adam.js';

/**
 * Adam through tfjs's own optimizer, one `tf.train.adam` per variable: tfjs's AdamOptimizer keeps its moments
 * by *position* in the gradient map, not by variable, so a variable set that changes between steps (a task
 * head used only for its task, a block frozen after growth) would mix moments of different variables with a
 * shared one. The path without native kernels (and on tfjs-node, whose elementwise ops are native).
 */
export class TfjsAdam implements VariableAdam {
  private readonly optimizers = new Map<tf.Variable, tf.Optimizer>();

  constructor(private readonly options: AdamOptions) {}

  has(variable: tf.Variable): boolean {
    return this.optimizers.has(variable);
  }

  apply(variable: tf.Variable, grad: tf.Tensor): void {
    let opt = this.optimizers.get(variable);
    if (!opt) {
      const { learningRate, beta1, beta2, epsilon } = this.options;
      opt = train.adam(learningRate, beta1, beta2, epsilon);
      this.optimizers.set(variable, opt);
    }
    opt.applyGradients([{ name: variable.name, tensor: grad }]);
  }

  clear(): void {
    for (const opt of this.optimizers.values()) opt.dispose();
    this.optimizers.clear();
  }
}
