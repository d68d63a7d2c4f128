import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.js';
import { CharVocab } from '../../src/data/char-corpus.js';
import { CharTransformer } from '../../src/models/char-transformer.js';
import { DenseFeedForward } from '../../src/models/feed-forward.js';
import { FffFeedForward } from '../../src/models/ffn/fff-feed-forward.js';
import { MoeFeedForward } from '../../src/models/ffn/moe-feed-forward.js';
import { PkmFeedForward } from '../../src/models/ffn/pkm-feed-forward.js';
import { languageModelObjective } from '../../src/train/objectives.js';
import { Trainer } from '../../src/train/trainer.js';
import { createRandom } from '../../src/util/random.js';

beforeAll(async () => {
  await initBackend({ backend: (process.env.PEER_TEST_BACKEND as 'cpu' | 'wasm' | undefined) ?? 'wasm' });
});

const text = 'the quick brown fox jumps over the lazy dog. '.repeat(20);
const vocab = CharVocab.fromText(text);
const corpus = vocab.encode(text);
const small = {
  vocabSize: vocab.size,
  contextLength: 16,
  dModel: 16,
  heads: 2,
  layers: 3,
  moe: { experts: 4, topK: 2, expertHidden: 16 },
  pkm: { heads: 2, topK: 4, dKey: 8, subKeyRows: 8, subKeyCols: 8 },
  fff: { depth: 2, leafWidth: 16 },
} as const;
const classes = { moe: MoeFeedForward, pkm: PkmFeedForward, fff: FffFeedForward } as const;

const owned: { dispose(): void }[] = [];
const keep = <T extends { dispose(): void }>(m: T): T => {
  owned.push(m);
  return m;
};
afterEach(() => {
  for (const m of owned.splice(0)) m.dispose();
});

describe.each(['moe', 'pkm', 'fff'] as const)('CharTransformer with a %s middle FFN', (ffn) => {
  it('puts the chosen FFN in the middle block only', () => {
    const lm = keep(new CharTransformer({ ...small, ffn }));
    expect(lm.blocks[0]?.ffn).toBeInstanceOf(DenseFeedForward);
    expect(lm.blocks[1]?.ffn).toBeInstanceOf(classes[ffn]);
    expect(lm.blocks[2]?.ffn).toBeInstanceOf(DenseFeedForward);
  });

  it('learns a tiny repeated string with the Trainer, leaking no tensors per step', async () => {
    const lm = keep(new CharTransformer({ ...small, ffn }, { seed: 1 }));
    const trainer = keep(new Trainer(lm, { learningRate: 1e-2, checkLeaks: true }));
    const history = await trainer.fit({
      steps: 60,
      batchSize: 8,
      loss: languageModelObjective(lm, corpus, { batchSize: 8, seed: 2 }),
    });
    const first = history.losses[0] ?? 0;
    const last = history.losses.slice(-5).reduce((a, b) => a + b, 0) / 5;
    expect(last).toBeLessThan(first / 2);
  });

  it('adds the auxiliary loss in training mode only', () => {
    const lm = keep(new CharTransformer({ ...small, ffn }, { seed: 3 }));
    const tokens = corpus.slice(0, 4 * 17);
    const [ce, aux] = tf.tidy(() => {
      const { logits, auxLoss } = lm.forward(
        { tokens: tokens.filter((_, i) => i % 17 !== 16), batch: 4 },
        true,
      );
      logits.dispose();
      return [
        lm.loss({ tokens, batch: 4 }, { training: false }).dataSync()[0] ?? 0,
        auxLoss.dataSync()[0] ?? 0,
      ];
    });
    if (ffn === 'pkm') expect(aux).toBe(0);
    else expect(aux).toBeGreaterThan(0);
    expect(ce).toBeGreaterThan(0);
  });

  it('is causal in inference: changing a later token leaves earlier positions unchanged', () => {
    const lm = keep(new CharTransformer({ ...small, ffn }, { seed: 4 }));
    const rng = createRandom(5);
    const tokens = Int32Array.from({ length: 16 }, () => rng.int(vocab.size));
    const changed = tokens.slice();
    changed[9] = ((tokens[9] ?? 0) + 1) % vocab.size;
    const [a, b] = [tokens, changed].map((t) => tf.tidy(() => lm.logits({ tokens: t, batch: 1 }).dataSync()));
    const v = vocab.size;
    expect(Array.from(b?.subarray(0, 9 * v) ?? [])).toEqual(Array.from(a?.subarray(0, 9 * v) ?? []));
  });
});
