import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/index.js';
import { CharVocab } from '../src/data/char-corpus.js';
import { CharTransformer } from '../src/models/char-transformer.js';
import { Trainer } from '../src/train/trainer.js';
import { languageModelObjective } from '../src/train/objectives.js';

await initBackend({ backend: (process.env.B as 'wasm' | 'cpu') ?? 'wasm' });
const text = 'hello peer world. '.repeat(50);
const vocab = CharVocab.fromText(text);
const corpus = vocab.encode(text);
const lm = new CharTransformer({ vocabSize: vocab.size, contextLength: 32, dModel: 32, heads: 4, layers: 3, ffn: (process.env.FFN as 'peer') ?? 'peer', peer: { subKeyRows: 16, subKeyCols: 16, heads: 2, topK: 4, dKey: 16 } }, { seed: 1 });
const trainer = new Trainer(lm, { learningRate: 3e-3, progressEvery: 25 });
const h = await trainer.fit({ steps: Number(process.env.STEPS ?? 100), batchSize: 16, loss: languageModelObjective(lm, corpus, { batchSize: 16, seed: 3 }), onProgress: (p) => console.log(JSON.stringify(p)) });
console.log('fit', h.steps, h.elapsedMs.toFixed(0), 'ms', h.stepsPerSec.toFixed(1), 'steps/s', tf.memory().numTensors);
process.exit(0);
