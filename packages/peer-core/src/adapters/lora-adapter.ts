import * as tf from '@tensorflow/tfjs';
import { fastMatMul } from '../backend/fast-matmul.js';
import { PeerConfigError, PeerShapeError } from '../errors/peer-error.js';
import { createRandom } from '../util/random.js';

/** Input and output width of a linear module. */
export interface LinearShape {
  readonly inDim: number;
  readonly outDim: number;
}

/** The two factors of one module's update: A [rank, inDim] and B [outDim, rank] (PEFT's layouts). */
export interface LoraModule extends LinearShape {
  readonly a: tf.Variable<tf.Rank.R2>;
  readonly b: tf.Variable<tf.Rank.R2>;
}

/** Construction of a fresh adapter. */
export interface LoraAdapterSpec {
  readonly name: string;
  /** Version label (default "1"); adapters are addressed as `name@version`. */
  readonly version?: string;
  /** r: the update's rank. */
  readonly rank: number;
  /** alpha: the update is scaled by alpha / r (Hu et al. 2021, §4.1), so alpha = r means scale 1. */
  readonly alpha: number;
  /** rsLoRA scaling alpha / sqrt(r) (Kalajdzievski 2023), PEFT's `use_rslora`. */
  readonly rslora?: boolean;
  /** Target modules by name, with their shapes. */
  readonly modules: Readonly<Record<string, LinearShape>>;
  readonly seed?: number;
}

/** Trained or imported factors of one module, row-major. */
export interface LoraModuleWeights extends LinearShape {
  readonly a: Float32Array;
  readonly b: Float32Array;
}

/**
 * A LoRA adapter (Hu et al. 2021): for each target linear module y = x W (+ bias), the adapted output is
 * y + (alpha/r) x A^T B^T, i.e. the weight W + (alpha/r) (B A)^T in this package's [in, out] weight layout.
 * B starts at zero, so a fresh adapter changes nothing; A starts like PEFT's (Kaiming-uniform with a = sqrt(5),
 * i.e. U(-1/sqrt(in), 1/sqrt(in))). `key` is its retrieval key (the mean embedding of its training data).
 */
export class LoraAdapter {
  readonly name: string;
  readonly version: string;
  readonly rank: number;
  readonly alpha: number;
  readonly rslora: boolean;
  readonly modules: ReadonlyMap<string, LoraModule>;
  key: Float32Array | null = null;

  private constructor(spec: Omit<LoraAdapterSpec, 'modules' | 'seed'>, modules: Map<string, LoraModule>) {
    this.name = spec.name;
    this.version = spec.version ?? '1';
    this.rank = spec.rank;
    this.alpha = spec.alpha;
    this.rslora = spec.rslora ?? false;
    this.modules = modules;
  }

  /** A fresh adapter: A random, B zero (a no-op until trained). */
  static create(spec: LoraAdapterSpec): LoraAdapter {
    checkSpec(spec);
    const rng = createRandom(spec.seed ?? 0);
    const modules = new Map<string, LoraModule>();
    for (const name of Object.keys(spec.modules).sort()) {
      const { inDim, outDim } = spec.modules[name] as LinearShape;
      const bound = 1 / Math.sqrt(inDim);
      const a = rng.fillUniform(new Float32Array(spec.rank * inDim), -bound, bound);
      modules.set(name, makeModule(a, new Float32Array(outDim * spec.rank), spec.rank, inDim, outDim));
    }
    return new LoraAdapter(spec, modules);
  }

  /** An adapter from given factors (import, store). */
  static fromWeights(
    spec: Omit<LoraAdapterSpec, 'modules' | 'seed'> & { readonly key?: Float32Array | null },
    weights: Readonly<Record<string, LoraModuleWeights>>,
  ): LoraAdapter {
    checkSpec({ ...spec, modules: weights });
    const modules = new Map<string, LoraModule>();
    for (const name of Object.keys(weights).sort()) {
      const w = weights[name] as LoraModuleWeights;
      if (w.a.length !== spec.rank * w.inDim || w.b.length !== w.outDim * spec.rank) {
        throw new PeerShapeError(
          `adapter '${spec.name}' module '${name}': A has ${w.a.length} values (want ${spec.rank}x${w.inDim}), B ${w.b.length} (want ${w.outDim}x${spec.rank})`,
        );
      }
      modules.set(name, makeModule(w.a, w.b, spec.rank, w.inDim, w.outDim));
    }
    const adapter = new LoraAdapter(spec, modules);
    adapter.key = spec.key ?? null;
    return adapter;
  }

  /** `name@version`. */
  get id(): string {
    return `${this.name}@${this.version}`;
  }

  /** alpha / r, or alpha / sqrt(r) with rsLoRA. */
  get scale(): number {
    return this.rslora ? this.alpha / Math.sqrt(this.rank) : this.alpha / this.rank;
  }

  /** scale * x A^T B^T for module `name`, [n, inDim] -> [n, outDim]; null if the adapter does not target it. */
  delta(name: string, x: tf.Tensor2D): tf.Tensor2D | null {
    const m = this.modules.get(name);
    if (!m) return null;
    // [n, in] -> [n, r] -> [n, out]
    return tf.tidy(() =>
      fastMatMul(fastMatMul(x, m.a, false, true), m.b, false, true).mul<tf.Tensor2D>(this.scale),
    );
  }

  /** The dense update (alpha/r) (B A)^T of a module in this package's [inDim, outDim] layout (for merging, tests). */
  deltaWeight(name: string): Float32Array {
    const m = this.modules.get(name);
    if (!m) throw new PeerConfigError('module', `one of ${[...this.modules.keys()].join(', ')}`, name);
    return tf.tidy(() => fastMatMul(m.a, m.b, true, true).mul(this.scale).dataSync() as Float32Array); // [in, r] @ [r, out]
  }

  /** A and B of every module: the only parameters adapter training touches. */
  trainableVariables(): tf.Variable[] {
    return [...this.modules.values()].flatMap((m) => [m.a, m.b]);
  }

  /** The factors as plain arrays (copies). */
  weights(): Record<string, LoraModuleWeights> {
    const out: Record<string, LoraModuleWeights> = {};
    for (const [name, m] of this.modules) {
      out[name] = {
        inDim: m.inDim,
        outDim: m.outDim,
        a: Float32Array.from(m.a.dataSync()),
        b: Float32Array.from(m.b.dataSync()),
      };
    }
    return out;
  }

  dispose(): void {
    for (const m of this.modules.values()) tf.dispose([m.a, m.b]);
  }
}

function makeModule(
  a: Float32Array,
  b: Float32Array,
  rank: number,
  inDim: number,
  outDim: number,
): LoraModule {
  return {
    inDim,
    outDim,
    // Unnamed: tfjs variable names are process-global and many adapters coexist.
    a: tf.tidy(() => tf.variable(tf.tensor2d(a, [rank, inDim]), true)),
    b: tf.tidy(() => tf.variable(tf.tensor2d(b, [outDim, rank]), true)),
  };
}

function checkSpec(spec: {
  name: string;
  rank: number;
  alpha: number;
  modules: Readonly<Record<string, LinearShape>>;
}): void {
  if (spec.name.length === 0 || spec.name.includes('@'))
    throw new PeerConfigError('name', "a non-empty name without '@'", spec.name);
  if (!Number.isInteger(spec.rank) || spec.rank < 1)
    throw new PeerConfigError('rank', 'an integer >= 1', spec.rank);
  if (!(spec.alpha > 0)) throw new PeerConfigError('alpha', '> 0', spec.alpha);
  const names = Object.keys(spec.modules);
  if (names.length === 0) throw new PeerConfigError('modules', 'at least one target module', names);
  for (const name of names) {
    const { inDim, outDim } = spec.modules[name] as LinearShape;
    if (!Number.isInteger(inDim) || inDim < 1 || !Number.isInteger(outDim) || outDim < 1) {
      throw new PeerConfigError(`modules.${name}`, 'positive integer inDim and outDim', { inDim, outDim });
    }
  }
}
