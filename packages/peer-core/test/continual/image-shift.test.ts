import { describe, expect, it } from 'vitest';
import { shiftImage, shiftImagesInPlace } from '../../src/continual/image-shift.js';
import type { StreamContext } from '../../src/continual/plugin.js';
import { ReplayPlugin } from '../../src/continual/replay.js';
import type { ContinualStream } from '../../src/continual/scenario.js';
import { InMemoryContinualStateStore } from '../../src/continual/state-store.js';
import { PeerConfigError } from '../../src/errors/peer-error.js';
import { createRandom } from '../../src/util/random.js';

/** Pixel (r, c) of a shifted image by definition: source (r − dy, c − dx), 0 outside. */
function referenceShift(src: number[], h: number, w: number, ch: number, dy: number, dx: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < h; r++)
    for (let c = 0; c < w; c++)
      for (let k = 0; k < ch; k++) {
        const sr = r - dy;
        const sc = c - dx;
        out.push(sr >= 0 && sr < h && sc >= 0 && sc < w ? (src[(sr * w + sc) * ch + k] ?? Number.NaN) : 0);
      }
  return out;
}

describe('image shift (replay augmentation)', () => {
  it('equals the per-pixel definition for every offset, with and without channels', () => {
    for (const [h, w, ch] of [
      [4, 5, 1],
      [3, 3, 2],
    ] as const) {
      const src = Float32Array.from({ length: h * w * ch }, (_, i) => i + 1);
      const out = new Float32Array(src.length);
      for (let dy = -h; dy <= h; dy++)
        for (let dx = -w; dx <= w; dx++) {
          shiftImage(src, out, { height: h, width: w, channels: ch }, dy, dx);
          expect(Array.from(out), `h${h} w${w} ch${ch} dy${dy} dx${dx}`).toEqual(
            referenceShift(Array.from(src), h, w, ch, dy, dx),
          );
        }
    }
  });

  it('shifts each row by its own offset within ±maxShift, keeping the pixel mass of a centred image', () => {
    // A 1-pixel dot in the middle of a 9×9 image moves by at most 2 pixels and never leaves the image.
    const rows = 400;
    const x = new Float32Array(rows * 81);
    for (let i = 0; i < rows; i++) x[i * 81 + 4 * 9 + 4] = 1;
    shiftImagesInPlace(x, rows, { height: 9, width: 9, channels: 1, maxShift: 2 }, createRandom(3));
    const offsets = new Set<string>();
    for (let i = 0; i < rows; i++) {
      const row = x.subarray(i * 81, (i + 1) * 81);
      expect(row.reduce((a, b) => a + b, 0)).toBe(1);
      const at = row.indexOf(1);
      const dy = Math.floor(at / 9) - 4;
      const dx = (at % 9) - 4;
      expect(Math.abs(dy)).toBeLessThanOrEqual(2);
      expect(Math.abs(dx)).toBeLessThanOrEqual(2);
      offsets.add(`${dy},${dx}`);
    }
    // 25 possible offsets, 400 draws: all of them occur (a draw that missed one would have p < 1e-6).
    expect(offsets.size).toBe(25);
  });

  it('rejects inputs that are not images of the configured shape', () => {
    const shift = { height: 28, width: 28, channels: 1, maxShift: 2 };
    expect(() => shiftImagesInPlace(new Float32Array(2 * 100), 2, shift, createRandom(0))).toThrow(
      PeerConfigError,
    );
  });

  it('ReplayPlugin shifts only the replayed rows, leaves the stored examples intact, and reports it', async () => {
    const dim = 16;
    const image = Float32Array.from({ length: dim }, (_, i) => i + 1);
    const train = { x: new Float32Array(image), y: Int32Array.of(0), size: 1, dim, classes: 1 };
    const stream = { id: 's0', task: 0, train, test: train } as unknown as ContinualStream;
    const ctx = {
      scenario: 'class',
      streamIndex: 0,
      stream,
      streams: [stream],
      store: new InMemoryContinualStateStore(),
    };
    const plugin = new ReplayPlugin({
      capacity: 1,
      batchSize: 64,
      augment: { height: 4, width: 4, maxShift: 1 },
      seed: 5,
    });
    await plugin.afterStream(ctx as unknown as StreamContext);
    const current = { x: new Float32Array(dim), y: Int32Array.of(0), task: Int32Array.of(0), size: 1, dim };
    // Twice: if augmenting wrote back into the buffer, the second batch's shifts would compound and its rows
    // would no longer be one offset of the stored image.
    for (let round = 0; round < 2; round++) {
      const batch = plugin.batchTransform(current, { ...ctx, streamIndex: 1 } as unknown as StreamContext);
      expect(batch.size).toBe(65);
      expect(Array.from(batch.x.subarray(0, dim))).toEqual(Array.from(current.x));
      let moved = 0;
      for (let i = 1; i < batch.size; i++) {
        const row = Array.from(batch.x.subarray(i * dim, (i + 1) * dim));
        const matches = [-1, 0, 1].flatMap((dy) =>
          [-1, 0, 1].filter((dx) =>
            referenceShift(Array.from(image), 4, 4, 1, dy, dx).every((v, j) => v === row[j]),
          ),
        );
        expect(matches.length).toBe(1);
        if (row.some((v, j) => v !== image[j])) moved++;
      }
      // 8 of 9 offsets move the image: about 57 of 64 rows, certainly more than half.
      expect(moved).toBeGreaterThan(32);
    }
    expect(plugin.describe().settings.augment).toBe('shift ±1px of 4×4');
  });
});
