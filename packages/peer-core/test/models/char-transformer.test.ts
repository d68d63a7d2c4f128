import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.js';
import { CharVocab } from '../../src/data/char-corpus.js';
import { PeerConfigError } from '../../src/errors/peer-error.js';
import { CharTransformer, natsToBits } from '../../src/models/char-transformer.js';
import { DenseFeedForward, type FeedForward, PeerFeedForward } from '../../src/models/feed-forward.js';
import { languageModelObjective } from '../../src/train/objectives.js';
import { Trainer } from '../../src/train/trainer.js';
import { createRandom } from '../../src/util/random.js';

beforeAll(async () => {
  await initBackend({ backend: (process.env.PEER_TEST_BACKEND as 'cpu' | 'wasm' | undefined) ?? 'wasm' });
});

const text = 'the quick brown fox jumps over the lazy dog. '.repeat(20);
const vocab = CharVocab.fromText(text);
const corpus = vocab.encode(text);
const peer = { subKeyRows: 8, subKeyCols: 8, heads: 2, topK: 4, dKey: 8 } as const;
// d 16 keeps a step cheap on the cpu backend too (~0.2 s there, ~0.05 s on wasm).
const small = { vocabSize: vocab.size, contextLength: 16, dModel: 16, heads: 2, layers: 3, peer } as const;

const owned: { dispose(): void }[] = [];
const keep = <T extends { dispose(): void }>(m: T): T => {
  owned.push(m);
  return m;
};
afterEach(() => {
  for (const m of owned.splice(0)) m.dispose();
});

describe.each(['dense', 'peer'] as const)('CharTransformer with a %s middle FFN', (ffn) => {
  it('puts the chosen FFN in the middle block only', () => {
    const lm = keep(new CharTransformer({ ...small, ffn }));
    const kinds = lm.blocks.map((b) => (b.ffn instanceof PeerFeedForward ? 'peer' : 'dense'));
    expect(kinds).toEqual(['dense', ffn, 'dense']);
    expect(lm.blocks[0]?.ffn).toBeInstanceOf(DenseFeedForward);
    expect(lm.peerLayers()).toHaveLength(ffn === 'peer' ? 1 : 0);
  });

  it('starts near the uniform loss ln(V) and learns a tiny repeated string', async () => {
    const lm = keep(new CharTransformer({ ...small, ffn }, { seed: 1 }));
    const trainer = keep(new Trainer(lm, { learningRate: 1e-2 }));
    const history = await trainer.fit({
      steps: 60,
      batchSize: 8,
      loss: languageModelObjective(lm, corpus, { batchSize: 8, seed: 2 }),
    });
    const first = history.losses[0] ?? 0;
    const last = history.losses.slice(-5).reduce((a, b) => a + b, 0) / 5;
    expect(Math.abs(first - Math.log(vocab.size))).toBeLessThan(0.1);
    expect(last).toBeLessThan(first / 3); // measured: 3.35 -> 0.60 nats for both FFNs
  });

  it('is causal: changing a later token leaves every earlier position unchanged', () => {
    const lm = keep(new CharTransformer({ ...small, ffn }, { seed: 3 }));
    const rng = createRandom(4);
    const tokens = Int32Array.from({ length: 2 * 16 }, () => rng.int(vocab.size));
    const changed = tokens.slice();
    const at = 10; // sequence 0, position 10
    changed[at] = ((tokens[at] ?? 0) + 1) % vocab.size;
    const [a, b] = [tokens, changed].map((t) => tf.tidy(() => lm.logits({ tokens: t, batch: 2 }).dataSync()));
    const v = vocab.size;
    const [av, bv] = [a ?? new Float32Array(), b ?? new Float32Array()];
    expect(Array.from(bv.subarray(0, at * v))).toEqual(Array.from(av.subarray(0, at * v)));
    expect(Array.from(bv.subarray(at * v, 16 * v))).not.toEqual(Array.from(av.subarray(at * v, 16 * v)));
    // The other sequence of the batch is untouched too.
    expect(Array.from(bv.subarray(16 * v))).toEqual(Array.from(av.subarray(16 * v)));
  });
});

describe('CharTransformer', () => {
  it('reports bits per character = nats / ln 2 and leaks no tensors', async () => {
    const lm = keep(new CharTransformer({ ...small, ffn: 'peer' }, { seed: 5 }));
    const tokens = corpus.slice(0, 3 * 17);
    // The first inference caches serving tensors (transposed sub-keys, BN folded into weights) per layer.
    await lm.bitsPerChar({ tokens, batch: 3 });
    const before = tf.memory().numTensors;
    const bits = await lm.bitsPerChar({ tokens, batch: 3 });
    const nats = tf.tidy(() => lm.loss({ tokens, batch: 3 }).dataSync()[0] ?? 0);
    expect(tf.memory().numTensors).toBe(before);
    expect(bits).toBeCloseTo(natsToBits(nats), 5);
    expect(natsToBits(Math.LN2)).toBeCloseTo(1, 12);
  });

  it('ties the output projection to the token embedding unless told not to', () => {
    const tied = keep(new CharTransformer(small));
    const untied = keep(new CharTransformer({ ...small, tiedEmbeddings: false }));
    expect(tied.output).toBeUndefined();
    expect(untied.output?.weight.shape).toEqual([16, vocab.size]);
    expect(untied.trainableVariables().length).toBe(tied.trainableVariables().length + 1);
    const logits = untied.logits({ tokens: corpus.slice(0, 16), batch: 1 });
    expect(logits.shape).toEqual([16, vocab.size]);
    logits.dispose();
  });

  it('takes any FeedForward from a factory (the plug-in point for MoE, PKM, FFF)', () => {
    let calls = 0;
    const zero: FeedForward = {
      apply: (x) => {
        calls++;
        return tf.zerosLike(x);
      },
      trainableVariables: () => [],
      dispose: () => {},
    };
    const lm = keep(new CharTransformer(small, { feedForward: (i) => (i === 2 ? zero : undefined) }));
    expect(lm.blocks[2]?.ffn).toBe(zero);
    tf.tidy(() => lm.logits({ tokens: corpus.slice(0, 8), batch: 1 }));
    expect(calls).toBe(1);
  });

  it('validates config and inputs with typed errors', () => {
    expect(() => new CharTransformer({ ...small, dModel: 30, heads: 4 })).toThrow(
      /'dModel' must be a multiple of heads \(4\), but got 30/,
    );
    const lm = keep(new CharTransformer(small));
    expect(() => lm.loss({ tokens: new Int32Array(18), batch: 1 })).toThrow(PeerConfigError);
    expect(() => lm.loss({ tokens: new Int32Array(10), batch: 3 })).toThrow(/tokens.length \/ batch/);
    expect(() => lm.logits({ tokens: Int32Array.of(0, vocab.size), batch: 1 })).toThrow(/'tokens\[1\]'/);
  });
});
