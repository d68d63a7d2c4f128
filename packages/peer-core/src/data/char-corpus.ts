import { PeerConfigError } from '../errors/peer-error.js';

/**
 * A character vocabulary built from a text (nanoGPT's shakespeare_char `prepare.py`): the distinct
 * characters sorted by code point, id = rank.
 *
 * @example const vocab = CharVocab.fromText(text); const ids = vocab.encode(text);
 */
export class CharVocab {
  private readonly index: Map<string, number>;

  private constructor(readonly chars: readonly string[]) {
    this.index = new Map(chars.map((c, i) => [c, i]));
  }

  /** The vocabulary of every character (code point) in `text`. */
  static fromText(text: string): CharVocab {
    return new CharVocab([...new Set(Array.from(text))].sort());
  }

  get size(): number {
    return this.chars.length;
  }

  /** Token ids of `text`; a character outside the vocabulary is an error naming it. */
  encode(text: string): Int32Array {
    const chars = Array.from(text);
    return Int32Array.from(chars, (c, i) => {
      const id = this.index.get(c);
      if (id === undefined) throw new PeerConfigError(`text[${i}]`, 'a character of the vocabulary', c);
      return id;
    });
  }

  decode(ids: ArrayLike<number>): string {
    return Array.from(ids as ArrayLike<number>, (id) => this.chars[id] ?? '\uFFFD').join('');
  }
}
