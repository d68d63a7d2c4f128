import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Scenario } from '../../src/continual/scenario.js';
import type { CellResult } from './run-cell.js';

/**
 * What makes two runs of a cell the same experiment. `recipe` is the method's own id (what `default`
 * resolved to when the run started), so a cell of an earlier default recipe is never taken for the new one.
 */
export interface CellKey {
  readonly scenario: Scenario;
  readonly recipe: string;
  readonly seed: number;
  readonly iterations: number;
  readonly evaluateOn: 'test' | 'validation';
  /** Subsampled MNIST (quick runs); null: all of it. */
  readonly trainLimit: number | null;
  readonly testLimit: number | null;
}

/** One line of the cells file: a finished cell, its key, and the commit that produced it. */
export interface CellRecord {
  readonly key: CellKey;
  readonly cell: CellResult;
  /** `git describe --always --dirty` of the tree that ran it; null outside a git checkout. */
  readonly commit: string | null;
  readonly finishedAt: string;
}

const keyText = (k: CellKey): string =>
  JSON.stringify([k.scenario, k.recipe, k.seed, k.iterations, k.evaluateOn, k.trainLimit, k.testLimit]);

/** The checkout's commit, `-dirty` when it has uncommitted changes; null when git cannot tell. */
export function currentCommit(cwd: string): string | null {
  try {
    return execFileSync('git', ['describe', '--always', '--dirty'], { cwd, encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

/**
 * Every finished (scenario, method, seed) cell, one JSON line each, appended the moment a cell ends. The full
 * protocol grid is ~25 core-hours, more than one session: with it a run can stop anywhere and a later one
 * (`--resume`) runs only the cells still missing, while the rows aggregate over all of them. Appends of one
 * short line are atomic on local filesystems, so two benchmark processes may share the file.
 */
export class CellCache {
  private readonly cells = new Map<string, CellRecord>();
  /** Bytes of the file already parsed: what lies beyond was appended since (by this or another process). */
  private parsed = 0;
  /** The file ends in a cut line (a killed writer): the next record starts on a line of its own. */
  private cutLine = false;

  constructor(
    readonly path: string,
    private readonly commit: string | null,
  ) {
    this.readAppended();
  }

  /**
   * The recorded result of this cell, if any run finished it. Reads what was appended since the last look first,
   * so two processes working through the same grid skip the cells the other one finished meanwhile.
   */
  find(key: CellKey): CellRecord | undefined {
    this.readAppended();
    return this.cells.get(keyText(key));
  }

  /** Records a finished cell (file first, so what the map holds is always on disk). */
  add(key: CellKey, cell: CellResult): CellRecord {
    const record: CellRecord = { key, cell, commit: this.commit, finishedAt: new Date().toISOString() };
    mkdirSync(dirname(this.path), { recursive: true });
    this.readAppended();
    appendFileSync(this.path, `${this.cutLine ? '\n' : ''}${JSON.stringify(record)}\n`);
    this.cutLine = false;
    // `parsed` stays put: the next look re-reads this line with whatever another process appended meanwhile.
    this.cells.set(keyText(key), record);
    return record;
  }

  /** Parses the whole lines appended since the last read; a trailing partial line waits for the next look. */
  private readAppended(): void {
    if (!existsSync(this.path)) return;
    const size = statSync(this.path).size;
    if (size <= this.parsed) return;
    const text = readFileSync(this.path).subarray(this.parsed).toString('utf8');
    const end = text.lastIndexOf('\n') + 1;
    for (const line of text.slice(0, end).split('\n')) {
      if (line.trim() === '') continue;
      try {
        const record = JSON.parse(line) as CellRecord;
        // Later lines win: a re-run of a cell supersedes the earlier one.
        this.cells.set(keyText(record.key), record);
      } catch {
        // a line cut by a killed process: that cell simply runs again
      }
    }
    this.parsed += Buffer.byteLength(text.slice(0, end), 'utf8');
    this.cutLine = end < text.length;
  }
}
