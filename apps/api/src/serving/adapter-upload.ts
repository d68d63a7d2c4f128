import {
  adapterEmbedding,
  classifierLinearModules,
  importPeft,
  type LoraAdapter,
  PEFT_CONFIG_FILE,
  PEFT_WEIGHTS_FILE,
  type PeerClassifier,
  PeerFormatError,
} from '@peer/core';
import { tf } from '@peer/core/backend';
import { ApiError } from '../http/api-error.js';

/** Imports PEFT files checked against the model's linear modules; format errors are 422s naming the file. */
export function importUpload(
  model: PeerClassifier,
  files: { config: string; weights: Uint8Array },
  name: string,
): LoraAdapter {
  const shapes = Object.fromEntries(
    [...classifierLinearModules(model)].map(([m, d]) => [m, { inDim: d.inDim, outDim: d.outDim }]),
  );
  let adapter: LoraAdapter;
  try {
    adapter = importPeft(files, { name, version: '1', shapes });
  } catch (error) {
    if (error instanceof PeerFormatError) {
      const field = error.reason.includes('config') ? PEFT_CONFIG_FILE : PEFT_WEIGHTS_FILE;
      throw new ApiError(422, 'invalid_field', error.message.replace(/^@peer\/core: /, ''), {
        field,
        bound: `a PEFT LoRA adapter of this model (${error.reason})`,
      });
    }
    throw error;
  }
  if (adapter.modules.size !== 1) {
    const count = adapter.modules.size;
    adapter.dispose();
    throw ApiError.invalidField(
      `${PEFT_CONFIG_FILE}.target_modules`,
      'exactly one module (one LoRA pair per adapter)',
      count,
    );
  }
  return adapter;
}

/** The retrieval key: the `key` form field, else the file's, else zeros (never auto-retrieved). */
export function retrievalKey(
  model: PeerClassifier,
  field: unknown,
  fromFile: Float32Array | null,
): Float32Array {
  const dim = tf.tidy(() => adapterEmbedding(model, tf.zeros([1, model.config.inDim])).shape[1]);
  let key: Float32Array | null = fromFile;
  if (field !== undefined) {
    let values: unknown;
    try {
      values = JSON.parse(String(field));
    } catch {
      values = field;
    }
    if (!Array.isArray(values) || !values.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      throw ApiError.invalidField('key', 'a JSON array of finite numbers', field);
    }
    key = Float32Array.from(values as number[]);
  }
  key ??= new Float32Array(dim);
  if (key.length !== dim) throw ApiError.invalidField('key', `an array of length ${dim}`, key.length);
  return key;
}

/** The bytes of a multipart file part, or a 422 naming the missing part. */
export async function fileBytes(form: Record<string, unknown>, name: string): Promise<Uint8Array> {
  const value = form[name];
  if (value instanceof File) return new Uint8Array(await value.arrayBuffer());
  throw ApiError.invalidField(name, 'a file part', typeof value === 'string' ? 'text' : value);
}

/** The text of a multipart part (a file, or a plain field). */
export async function fileText(form: Record<string, unknown>, name: string): Promise<string> {
  const value = form[name];
  if (typeof value === 'string') return value;
  return new TextDecoder().decode(await fileBytes(form, name));
}
