import { describe, expect, it } from 'vitest';
import { parseCharTransformerConfig } from '../../../src/models/char-transformer-config.js';
import {
  charTransformerTokenFlops,
  fffInferenceFlops,
  ffnTokenFlops,
  trainingFlops,
} from '../../../src/models/ffn/flop-count.js';

// d 64 and the bench's settings; each expected number is worked out from the formula in flop-count.ts.
const config = parseCharTransformerConfig({
  vocabSize: 89,
  dModel: 64,
  contextLength: 64,
  heads: 4,
  layers: 3,
  peer: { heads: 4, topK: 16, dKey: 32, subKeyRows: 128, subKeyCols: 128 },
  moe: { experts: 8, topK: 2, expertHidden: 128 },
  pkm: { heads: 4, topK: 32, dKey: 32, subKeyRows: 128, subKeyCols: 128 },
  fff: { depth: 3, leafWidth: 32 },
});

describe('FLOP counts per token', () => {
  it('dense 64-256-64: forward 4dH = 65536, backward 8dH', () => {
    expect(ffnTokenFlops('dense', config)).toEqual({ forward: 65_536, backward: 131_072 });
  });

  it('moe: noisy router 2·2dE = 2048 plus 2 experts × 4·d·128 = 65536; backward twice that', () => {
    expect(ffnTokenFlops('moe', config)).toEqual({ forward: 67_584, backward: 135_168 });
  });

  it('peer: query 16384 + scores 4·256·32 = 32768 + candidates 4·16² = 1024 + experts 64·4·64 = 16384', () => {
    // backward: 2·16384 + 4·64·32 (sparse key gradients) + 2·16384
    expect(ffnTokenFlops('peer', config)).toEqual({ forward: 66_560, backward: 73_728 });
  });

  it('pkm: query 16384 + scores 32768 + candidates 4·32² = 4096 + values 128·2·64 = 16384', () => {
    // backward: 2·16384 + 4·128·32 + 2·16384
    expect(ffnTokenFlops('pkm', config)).toEqual({ forward: 69_632, backward: 81_920 });
  });

  it('fff: training runs all 8 leaves (= a dense 256-wide FFN) plus 7 node neurons; inference one leaf', () => {
    // 2·64·7 + 8·4·64·32 + 2·8·64
    expect(ffnTokenFlops('fff', config)).toEqual({ forward: 67_456, backward: 134_912 });
    expect(fffInferenceFlops(config)).toBe(2 * 64 * 3 + 4 * 64 * 32 + 2 * 64);
  });

  it('whole model: 3 blocks of attention (2·(4d² + 2Td)) and FFN, plus the 2dV output, backward = 2x', () => {
    const attention = 2 * (4 * 64 * 64 + 2 * 64 * 64);
    const forward = 2 * 64 * 89 + 3 * (attention + 65_536);
    expect(charTransformerTokenFlops(config)).toEqual({ forward, backward: 2 * forward });
    const peer = charTransformerTokenFlops({ ...config, ffn: 'peer' });
    expect(trainingFlops(peer)).toBe(3 * forward - 196_608 + 66_560 + 73_728);
  });
});
