import { z } from 'zod';
import { PeerConfigError } from '../errors/peer-error.js';
import type { Random } from '../util/random.js';

/**
 * Random translation of replayed images. A replay buffer of 100 examples per class is seen thousands of
 * times over a long stream, and the head learns those exact images rather than their classes; shifting each
 * replayed image by a few pixels (zero fill, as MNIST's background) turns every stored example into a small
 * family of plausible ones without storing anything more.
 */
export const imageShiftSchema = z
  .object({
    /** Image height in pixels; rows of the input vector are `height × width × channels`, row-major. */
    height: z.number().int().positive(),
    width: z.number().int().positive(),
    channels: z.number().int().positive().default(1),
    /** Largest shift in pixels along each axis; each image draws dy, dx uniformly in [-max, max]. */
    maxShift: z.number().int().positive(),
  })
  .strict();

export type ImageShiftInput = z.input<typeof imageShiftSchema>;
export type ImageShift = z.output<typeof imageShiftSchema>;

/**
 * Writes `src` (one image, `height × width × channels`) shifted by (dy, dx) pixels into `out`: pixel (r, c)
 * of the result is pixel (r − dy, c − dx) of the source, 0 where that falls outside.
 */
export function shiftImage(
  src: Float32Array,
  out: Float32Array,
  shape: Pick<ImageShift, 'height' | 'width' | 'channels'>,
  dy: number,
  dx: number,
): void {
  const { height, width, channels } = shape;
  out.fill(0);
  const rowLength = width * channels;
  // Source columns that stay inside the image, as a contiguous run per row (copied with one `set`).
  const c0 = Math.max(0, -dx);
  const c1 = Math.min(width, width - dx);
  if (c1 <= c0) return;
  for (let r = Math.max(0, dy); r < Math.min(height, height + dy); r++) {
    const from = (r - dy) * rowLength + c0 * channels;
    out.set(src.subarray(from, from + (c1 - c0) * channels), r * rowLength + (c0 + dx) * channels);
  }
}

/** Shifts every row of `x` (`rows` images) in place by its own random offset. */
export function shiftImagesInPlace(x: Float32Array, rows: number, shift: ImageShift, rng: Random): void {
  const dim = shift.height * shift.width * shift.channels;
  if (x.length !== rows * dim) {
    throw new PeerConfigError(
      'augment',
      `images of ${dim} values (height × width × channels)`,
      x.length / rows,
    );
  }
  const scratch = new Float32Array(dim);
  const span = 2 * shift.maxShift + 1;
  for (let i = 0; i < rows; i++) {
    const dy = rng.int(span) - shift.maxShift;
    const dx = rng.int(span) - shift.maxShift;
    if (dy === 0 && dx === 0) continue;
    const row = x.subarray(i * dim, (i + 1) * dim);
    shiftImage(row, scratch, shift, dy, dx);
    row.set(scratch);
  }
}
