import { z } from 'zod';
import { PeerFormatError } from './format-error.js';
import { type LinearShape, LoraAdapter, type LoraModuleWeights } from './lora-adapter.js';
import { readSafetensors, type SafetensorsTensor, writeSafetensors } from './safetensors.js';
import { toFloat32 } from './safetensors-dtype.js';

/** The two files of a Hugging Face PEFT adapter directory. */
export interface PeftFiles {
  /** `adapter_config.json` text. */
  readonly config: string;
  /** `adapter_model.safetensors` bytes. */
  readonly weights: Uint8Array;
}

export const PEFT_CONFIG_FILE = 'adapter_config.json';
export const PEFT_WEIGHTS_FILE = 'adapter_model.safetensors';

/** The LoRA fields of `adapter_config.json` this reader understands; others are accepted and ignored. */
const peftLoraConfigSchema = z.looseObject({
  peft_type: z.literal('LORA'),
  r: z.number().int().positive(),
  lora_alpha: z.number().positive(),
  target_modules: z.union([z.array(z.string()), z.string()]),
  bias: z.literal('none').default('none'),
  fan_in_fan_out: z.boolean().default(false),
  use_rslora: z.boolean().default(false),
  use_dora: z.literal(false).optional(),
  rank_pattern: z.record(z.string(), z.never()).optional(),
  alpha_pattern: z.record(z.string(), z.never()).optional(),
  base_model_name_or_path: z.string().nullable().optional(),
});

const TENSOR_NAME = /^base_model\.model\.(.+)\.lora_(A|B)(?:\.[A-Za-z0-9_]+)?\.weight$/;

/**
 * Writes an adapter as PEFT does (`save_pretrained`): `adapter_config.json` with the fields PEFT's LoraConfig
 * writes, keys sorted, 2-space indent; tensors `base_model.model.<module>.lora_A.weight` [r, in] and
 * `...lora_B.weight` [out, r] in F32. `fan_in_fan_out` is true because this package stores a linear weight as
 * [in, out] (like GPT-2's Conv1D); the A/B layouts do not depend on it. Name, version and retrieval key travel in
 * the safetensors `__metadata__` (PEFT ignores unknown metadata), so the config stays loadable by PEFT.
 */
export function exportPeft(adapter: LoraAdapter, options: { baseModel?: string } = {}): PeftFiles {
  const modules = [...adapter.modules.keys()].sort();
  const config = {
    alpha_pattern: {},
    auto_mapping: null,
    base_model_name_or_path: options.baseModel ?? null,
    bias: 'none',
    fan_in_fan_out: true,
    inference_mode: true,
    init_lora_weights: true,
    layers_pattern: null,
    layers_to_transform: null,
    lora_alpha: adapter.alpha,
    lora_dropout: 0,
    modules_to_save: null,
    peft_type: 'LORA',
    r: adapter.rank,
    rank_pattern: {},
    revision: null,
    target_modules: modules,
    task_type: null,
    use_dora: false,
    use_rslora: adapter.rslora,
  };
  const tensors: SafetensorsTensor[] = [];
  for (const [name, w] of Object.entries(adapter.weights())) {
    const prefix = `base_model.model.${name}`;
    tensors.push({
      name: `${prefix}.lora_A.weight`,
      dtype: 'F32',
      shape: [adapter.rank, w.inDim],
      data: bytesOf(w.a),
    });
    tensors.push({
      name: `${prefix}.lora_B.weight`,
      dtype: 'F32',
      shape: [w.outDim, adapter.rank],
      data: bytesOf(w.b),
    });
  }
  const metadata: Record<string, string> = {
    format: 'pt',
    'peer.adapter': adapter.name,
    'peer.version': adapter.version,
  };
  if (adapter.key) metadata['peer.retrieval_key'] = Buffer.from(bytesOf(adapter.key)).toString('base64');
  return { config: `${JSON.stringify(config, null, 2)}\n`, weights: writeSafetensors(tensors, metadata) };
}

/**
 * Reads a PEFT LoRA adapter. F32, F16 and BF16 weights are widened to float32. Rejects, with a
 * {@link PeerFormatError} naming the field or tensor: other PEFT types, DoRA, per-module rank/alpha patterns,
 * trained biases, tensors that are not LoRA factors, modules outside `target_modules`, factors whose shapes
 * disagree with `r` or with each other, and (given `shapes`) modules the model does not have.
 */
export function importPeft(
  files: PeftFiles,
  options: { name?: string; version?: string; shapes?: Readonly<Record<string, LinearShape>> } = {},
): LoraAdapter {
  let raw: unknown;
  try {
    raw = JSON.parse(files.config);
  } catch (cause) {
    throw new PeerFormatError('peft', 'invalid_config_json', `${PEFT_CONFIG_FILE} is not valid JSON`, {
      cause,
    });
  }
  const parsed = peftLoraConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.join('.') || '(config)';
    throw new PeerFormatError(
      'peft',
      'unsupported_config',
      `${PEFT_CONFIG_FILE} field '${field}': ${issue?.message}`,
      { cause: parsed.error },
    );
  }
  const config = parsed.data;
  const file = readSafetensors(files.weights);
  const factors = new Map<string, { a?: SafetensorsTensor; b?: SafetensorsTensor }>();
  for (const t of file.tensors) {
    const match = TENSOR_NAME.exec(t.name);
    if (!match)
      throw new PeerFormatError(
        'peft',
        'unexpected_tensor',
        `tensor ${JSON.stringify(t.name)} is not a LoRA factor`,
      );
    const [, module = '', which] = match;
    const entry = factors.get(module) ?? {};
    if (which === 'A') entry.a = t;
    else entry.b = t;
    factors.set(module, entry);
  }
  const weights: Record<string, LoraModuleWeights> = {};
  for (const [module, { a, b }] of factors) {
    if (!a || !b)
      throw new PeerFormatError(
        'peft',
        'missing_factor',
        `module '${module}' has lora_${a ? 'B' : 'A'} missing`,
      );
    if (!isTarget(module, config.target_modules)) {
      throw new PeerFormatError('peft', 'untargeted_module', `module '${module}' is not in target_modules`);
    }
    const [r, inDim = 0] = a.shape;
    const [outDim = 0, rB] = b.shape;
    if (a.shape.length !== 2 || b.shape.length !== 2 || r !== config.r || rB !== config.r) {
      throw new PeerFormatError(
        'peft',
        'invalid_shape',
        `module '${module}': A [${a.shape}] and B [${b.shape}] do not fit r = ${config.r}`,
      );
    }
    const expected = options.shapes?.[module];
    if (options.shapes && (!expected || expected.inDim !== inDim || expected.outDim !== outDim)) {
      throw new PeerFormatError(
        'peft',
        'module_mismatch',
        `module '${module}' [in ${inDim}, out ${outDim}] does not match the model`,
      );
    }
    weights[module] = { inDim, outDim, a: float32Of(a), b: float32Of(b) };
  }
  if (factors.size === 0)
    throw new PeerFormatError('peft', 'no_modules', `${PEFT_WEIGHTS_FILE} has no LoRA factors`);
  const keyBytes = Buffer.from(file.metadata['peer.retrieval_key'] ?? '', 'base64');
  if (keyBytes.byteLength % 4 !== 0) {
    throw new PeerFormatError(
      'peft',
      'invalid_metadata',
      `peer.retrieval_key holds ${keyBytes.byteLength} bytes, not whole float32s`,
    );
  }
  return LoraAdapter.fromWeights(
    {
      name: options.name ?? file.metadata['peer.adapter'] ?? 'imported',
      version: options.version ?? file.metadata['peer.version'] ?? '1',
      rank: config.r,
      alpha: config.lora_alpha,
      rslora: config.use_rslora,
      key: keyBytes.byteLength > 0 ? new Float32Array(Uint8Array.from(keyBytes).buffer) : null,
    },
    weights,
  );
}

/** PEFT matches a list entry against a module name or its last dotted parts, a string as a full regex. */
function isTarget(module: string, targets: string | readonly string[]): boolean {
  if (typeof targets === 'string') return new RegExp(`^(?:${targets})$`).test(module);
  return targets.some((t) => module === t || module.endsWith(`.${t}`));
}

function float32Of(t: SafetensorsTensor): Float32Array {
  if (t.dtype !== 'F32' && t.dtype !== 'F16' && t.dtype !== 'BF16') {
    throw new PeerFormatError(
      'peft',
      'unsupported_dtype',
      `tensor ${JSON.stringify(t.name)} is ${t.dtype}, not F32/F16/BF16`,
    );
  }
  return toFloat32(t.dtype, t.data);
}

function bytesOf(values: Float32Array): Uint8Array {
  const copy = Float32Array.from(values);
  return new Uint8Array(copy.buffer);
}
