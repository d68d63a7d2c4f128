/** One training version of a lineage: which stream it trained and its held-out accuracy per stream. */
export interface TrainedVersion {
  readonly stream: string;
  readonly accuracy: Readonly<Record<string, number>>;
}

/** The `continual` part of a training version's metrics (shared contract). */
export interface ContinualSummary {
  /** Distinct streams in the order the lineage first trained them. */
  readonly streams: string[];
  /**
   * R[i][j]: accuracy on stream j after the i-th training version. Rows are as long as the streams known at
   * that version (a stream is measured from the version that first trains it), so R is lower-triangular
   * when every version trains a new stream.
   */
  readonly R: number[][];
  /** Mean accuracy over all streams after the last version (Lopez-Paz & Ranzato 2017). */
  readonly acc: number;
  /**
   * Backward transfer: mean over streams not trained by the last version of R[last][j] - R[t_j][j], t_j the
   * last version that trained j (= R[j][j] with one version per stream); negative means forgetting; 0 with
   * no such stream.
   */
  readonly bwt: number;
  /**
   * Average forgetting (Chaudhry et al. 2018, max-based): mean over the same streams of
   * max over earlier versions l of R[l][j] - R[last][j], over the versions where j was measured; 0 with none.
   */
  readonly forgetting: number;
}

/**
 * The continual-learning summary of a lineage's training versions, oldest first (the newest is the version
 * being committed). Accuracy missing for a stream in a version's metrics is taken as not measured.
 */
export function continualSummary(versions: readonly TrainedVersion[]): ContinualSummary {
  const streams: string[] = [];
  for (const v of versions) if (!streams.includes(v.stream)) streams.push(v.stream);
  const known = new Set<string>();
  const R = versions.map((v) => {
    known.add(v.stream);
    return streams.filter((s) => known.has(s)).map((s) => v.accuracy[s] ?? 0);
  });
  const T = versions.length;
  const last = R[T - 1] ?? [];
  const at = (i: number, j: number) => R[i]?.[j];
  const mean = (xs: number[]) => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);
  const lastStream = versions[T - 1]?.stream;
  const bwt: number[] = [];
  const forgetting: number[] = [];
  streams.forEach((s, j) => {
    if (s === lastStream) return;
    let trained = -1;
    versions.forEach((v, i) => {
      if (v.stream === s) trained = i;
    });
    const final = last[j] ?? 0;
    bwt.push(final - (at(trained, j) ?? final));
    let best = Number.NEGATIVE_INFINITY;
    for (let l = 0; l < T - 1; l++) {
      const value = at(l, j);
      if (value !== undefined) best = Math.max(best, value);
    }
    if (best > Number.NEGATIVE_INFINITY) forgetting.push(best - final);
  });
  return { streams, R, acc: mean(last), bwt: mean(bwt), forgetting: mean(forgetting) };
}
