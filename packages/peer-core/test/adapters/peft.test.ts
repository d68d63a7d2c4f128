import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { PeerFormatError } from '../../src/adapters/format-error.js';
import { LoraAdapter } from '../../src/adapters/lora-adapter.js';
import { loadPeftDirectory, savePeftDirectory } from '../../src/adapters/peft-directory.js';
import { exportPeft, importPeft } from '../../src/adapters/peft-format.js';
import { writeSafetensors } from '../../src/adapters/safetensors.js';
import { initBackend } from '../../src/backend/index.js';
import { createRandom } from '../../src/util/random.js';

beforeAll(async () => {
  await initBackend({ backend: (process.env.PEER_TEST_BACKEND as 'cpu' | 'wasm' | undefined) ?? 'wasm' });
});

function trained(): LoraAdapter {
  const adapter = LoraAdapter.create({
    name: 'stream-2',
    version: '3',
    rank: 2,
    alpha: 8,
    modules: { input: { inDim: 3, outDim: 4 }, 'heads.0': { inDim: 4, outDim: 2 } },
    seed: 1,
  });
  const rng = createRandom(9);
  for (const m of adapter.modules.values())
    m.b.assign(tf.tensor2d(rng.fillNormal(new Float32Array(m.b.size), 1), m.b.shape));
  adapter.key = Float32Array.from([0.25, -1, 3.5]);
  return adapter;
}

const reasonOf = (f: () => unknown): string => {
  try {
    f();
  } catch (error) {
    if (error instanceof PeerFormatError) return error.reason;
    throw error;
  }
  return 'accepted';
};

describe('PEFT LoRA format', () => {
  it('round-trips weights, key, name and version, and re-exports byte-exactly', () => {
    const adapter = trained();
    const files = exportPeft(adapter, { baseModel: 'peer/classifier@v7' });
    const back = importPeft(files);
    expect(back.id).toBe('stream-2@3');
    expect(back.rank).toBe(2);
    expect(back.alpha).toBe(8);
    expect(back.key).toEqual(adapter.key);
    expect(back.weights()).toEqual(adapter.weights());
    const again = exportPeft(back, { baseModel: 'peer/classifier@v7' });
    expect(again.config).toBe(files.config);
    expect(Buffer.from(again.weights).equals(Buffer.from(files.weights))).toBe(true);
    adapter.dispose();
    back.dispose();
  });

  it('writes the config fields and tensor names PEFT uses (A [r, in], B [out, r])', () => {
    const adapter = trained();
    const files = exportPeft(adapter, { baseModel: 'base' });
    const config = JSON.parse(files.config) as Record<string, unknown>;
    expect(config).toMatchObject({
      peft_type: 'LORA',
      r: 2,
      lora_alpha: 8,
      target_modules: ['heads.0', 'input'],
      fan_in_fan_out: true,
      bias: 'none',
      base_model_name_or_path: 'base',
      use_rslora: false,
      use_dora: false,
    });
    expect(Object.keys(config)).toEqual(Object.keys(config).sort());
    const header = new TextDecoder().decode(
      files.weights.subarray(8, 8 + Number(new DataView(files.weights.buffer).getBigUint64(0, true))),
    );
    const parsed = JSON.parse(header) as Record<string, { shape?: number[] }>;
    expect(parsed['base_model.model.input.lora_A.weight']?.shape).toEqual([2, 3]);
    expect(parsed['base_model.model.input.lora_B.weight']?.shape).toEqual([4, 2]);
    expect(parsed['base_model.model.heads.0.lora_B.weight']?.shape).toEqual([2, 2]);
    adapter.dispose();
  });

  it('imports a hand-made PEFT adapter with F16 factors, a suffix target and rsLoRA scaling', () => {
    const config = JSON.stringify({
      peft_type: 'LORA',
      r: 1,
      lora_alpha: 4,
      target_modules: ['up'],
      use_rslora: true,
      task_type: 'X',
    });
    // A [1, 2] = [1, -2] and B [2, 1] = [0.5, 2] as binary16 bytes.
    const weights = writeSafetensors([
      {
        name: 'base_model.model.blocks.0.ffn.up.lora_A.weight',
        dtype: 'F16',
        shape: [1, 2],
        data: Uint8Array.from([0x00, 0x3c, 0x00, 0xc0]),
      },
      {
        name: 'base_model.model.blocks.0.ffn.up.lora_B.weight',
        dtype: 'F16',
        shape: [2, 1],
        data: Uint8Array.from([0x00, 0x38, 0x00, 0x40]),
      },
    ]);
    const adapter = importPeft(
      { config, weights },
      { name: 'hf', shapes: { 'blocks.0.ffn.up': { inDim: 2, outDim: 2 } } },
    );
    expect(adapter.id).toBe('hf@1');
    expect(adapter.scale).toBe(4); // alpha / sqrt(r)
    const w = adapter.weights()['blocks.0.ffn.up'];
    expect(Array.from(w?.a ?? [])).toEqual([1, -2]);
    expect(Array.from(w?.b ?? [])).toEqual([0.5, 2]);
    // (B A)^T scaled: [in, out] = 4 * [[1*0.5, 1*2], [-2*0.5, -2*2]].
    expect(Array.from(adapter.deltaWeight('blocks.0.ffn.up'))).toEqual([2, 8, -4, -16]);
    adapter.dispose();
  });

  it('rejects what it cannot apply with typed errors', () => {
    const good = trained();
    const files = exportPeft(good);
    const config = JSON.parse(files.config) as Record<string, unknown>;
    const withConfig = (patch: Record<string, unknown>) => () =>
      importPeft({ ...files, config: JSON.stringify({ ...config, ...patch }) });
    expect(reasonOf(withConfig({ peft_type: 'IA3' }))).toBe('unsupported_config');
    expect(reasonOf(withConfig({ use_dora: true }))).toBe('unsupported_config');
    expect(reasonOf(withConfig({ rank_pattern: { input: 4 } }))).toBe('unsupported_config');
    expect(reasonOf(withConfig({ r: 3 }))).toBe('invalid_shape');
    expect(reasonOf(withConfig({ target_modules: ['input'] }))).toBe('untargeted_module');
    expect(reasonOf(() => importPeft({ ...files, config: '{' }))).toBe('invalid_config_json');
    expect(reasonOf(() => importPeft(files, { shapes: { input: { inDim: 3, outDim: 4 } } }))).toBe(
      'module_mismatch',
    );
    const stray = writeSafetensors([
      { name: 'base_model.model.input.weight', dtype: 'F32', shape: [1], data: new Uint8Array(4) },
    ]);
    expect(reasonOf(() => importPeft({ config: files.config, weights: stray }))).toBe('unexpected_tensor');
    expect(reasonOf(() => importPeft({ config: files.config, weights: files.weights.subarray(0, 20) }))).toBe(
      'invalid_header_length',
    );
    good.dispose();
  });

  it('saves and loads an adapter directory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'peft-'));
    try {
      const adapter = trained();
      await savePeftDirectory(dir, adapter);
      expect(JSON.parse(await readFile(join(dir, 'adapter_config.json'), 'utf8')).peft_type).toBe('LORA');
      const back = await loadPeftDirectory(dir);
      expect(back.weights()).toEqual(adapter.weights());
      adapter.dispose();
      back.dispose();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
