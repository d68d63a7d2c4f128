import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LoraAdapter } from './lora-adapter.js';
import { exportPeft, importPeft, PEFT_CONFIG_FILE, PEFT_WEIGHTS_FILE } from './peft-format.js';

/** Writes `adapter_config.json` and `adapter_model.safetensors` into `dir` (created if needed). */
export async function savePeftDirectory(
  dir: string,
  adapter: LoraAdapter,
  options: { baseModel?: string } = {},
): Promise<void> {
  const files = exportPeft(adapter, options);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, PEFT_CONFIG_FILE), files.config);
  await writeFile(join(dir, PEFT_WEIGHTS_FILE), files.weights);
}

/** Reads a PEFT adapter directory. */
export async function loadPeftDirectory(
  dir: string,
  options: Parameters<typeof importPeft>[1] = {},
): Promise<LoraAdapter> {
  const [config, weights] = await Promise.all([
    readFile(join(dir, PEFT_CONFIG_FILE), 'utf8'),
    readFile(join(dir, PEFT_WEIGHTS_FILE)),
  ]);
  return importPeft(
    { config, weights: new Uint8Array(weights.buffer, weights.byteOffset, weights.byteLength) },
    options,
  );
}
