/**
 * Pure functions over version views (`GET /v1/models/{id}/versions`): parent chains, the rows each stream
 * added, timeline lanes, usage grids. No DOM, so Node tests import this file directly.
 */

/**
 * @typedef {{ id: string, seq: number, parentId: string | null, createdAt?: string, message?: string,
 *   contentHash?: string, metrics?: Record<string, any>, lineage?: Record<string, any> }} VersionView
 */

/**
 * The chain from the first version down to `versionId`, oldest first.
 * @param {VersionView[]} versions
 * @param {string} versionId
 * @returns {VersionView[]}
 */
export function lineageOf(versions, versionId) {
  const byId = new Map(versions.map((v) => [v.id, v]));
  const chain = [];
  const seen = new Set();
  for (let v = byId.get(versionId); v && !seen.has(v.id); v = v.parentId ? byId.get(v.parentId) : undefined) {
    seen.add(v.id); // a cycle cannot happen in the store, but a bad page of data must not hang the tab
    chain.push(v);
  }
  return chain.reverse();
}

/**
 * Versions that a training job committed (they carry `metrics.stream`).
 * @param {VersionView[]} chain
 */
export function trainingVersions(chain) {
  return chain.filter((v) => typeof v.metrics?.stream === 'string');
}

/**
 * Sub-key rows each stream added to `layer` along a lineage: `[{ stream, seq, from, to }]`, in order.
 * @param {VersionView[]} chain
 * @param {string} layer
 */
export function rowBands(chain, layer) {
  const bands = [];
  for (const v of trainingVersions(chain)) {
    const range = v.metrics?.rowsAdded?.[layer];
    if (Array.isArray(range) && range.length === 2 && range[1] > range[0]) {
      bands.push({ stream: v.metrics.stream, seq: v.seq, from: range[0], to: range[1] });
    }
  }
  return bands;
}

/**
 * Places versions on lanes for the timeline: a child stays on its parent's lane unless a sibling already
 * continues it (a branch, e.g. a commit after a rollback), then it opens the next free lane.
 * @param {VersionView[]} versions
 * @returns {Array<{ version: VersionView, lane: number, parent: VersionView | undefined }>}
 */
export function timelineLanes(versions) {
  const sorted = [...versions].sort((a, b) => a.seq - b.seq);
  const byId = new Map(sorted.map((v) => [v.id, v]));
  /** @type {Map<string, number>} */
  const laneOf = new Map();
  /** @type {Set<string>} parents whose lane is already continued */
  const continued = new Set();
  let lanes = 0;
  return sorted.map((version) => {
    const parent = version.parentId ? byId.get(version.parentId) : undefined;
    let lane;
    if (parent && !continued.has(parent.id)) {
      lane = laneOf.get(parent.id) ?? 0;
      continued.add(parent.id);
    } else {
      lane = lanes;
    }
    lanes = Math.max(lanes, lane + 1);
    laneOf.set(version.id, lane);
    return { version, lane, parent };
  });
}

/**
 * The usage metric of one layer as a grid of cells in sub-key-grid units. Small grids come cell per
 * expert (`counts.length === rows * cols`); grids over 16,384 experts are summed over bins of `binRows`
 * sub-key rows × `binCols` columns, giving `ceil(rows / binRows) × ceil(cols / binCols)` counts.
 * @param {{ rows: number, cols: number, counts: number[], binRows?: number, binCols?: number }} usage
 * @returns {{ rows: number, cols: number, gridRows: number, gridCols: number, rowsPerCell: number,
 *   colsPerCell: number, counts: number[], binned: boolean, total: number, used: number } | undefined}
 */
export function usageGrid(usage) {
  if (!usage || !Array.isArray(usage.counts) || !(usage.rows > 0) || !(usage.cols > 0)) return undefined;
  const { rows, cols, counts } = usage;
  const rowsPerCell = counts.length === rows * cols ? 1 : (usage.binRows ?? 0);
  const colsPerCell = counts.length === rows * cols ? 1 : (usage.binCols ?? 0);
  if (!(rowsPerCell > 0) || !(colsPerCell > 0)) return undefined;
  const gridRows = Math.ceil(rows / rowsPerCell);
  const gridCols = Math.ceil(cols / colsPerCell);
  if (gridRows * gridCols !== counts.length) return undefined;
  let total = 0;
  let used = 0;
  for (const c of counts) {
    total += c;
    if (c > 0) used++;
  }
  const binned = rowsPerCell > 1 || colsPerCell > 1;
  return { rows, cols, gridRows, gridCols, rowsPerCell, colsPerCell, counts, binned, total, used };
}

/**
 * Continual-learning summary of a version: the accuracy matrix with its row labels (the training
 * versions of the lineage), or undefined when the version has none.
 * @param {VersionView[]} chain lineage of the version, oldest first
 */
export function accuracyMatrix(chain) {
  const version = chain.at(-1);
  const continual = version?.metrics?.continual;
  if (!continual || !Array.isArray(continual.R) || !Array.isArray(continual.streams)) return undefined;
  const trained = trainingVersions(chain);
  const labels = continual.R.map((_, i) => {
    const v = trained[trained.length - continual.R.length + i];
    return v ? `v${v.seq} · ${v.metrics.stream}` : `step ${i + 1}`;
  });
  const cells = [];
  continual.R.forEach((row, i) => {
    row.forEach((value, j) => {
      if (typeof value === 'number')
        cells.push({ i, j, row: labels[i], stream: continual.streams[j], value });
    });
  });
  return {
    streams: continual.streams,
    labels,
    cells,
    acc: continual.acc,
    bwt: continual.bwt,
    forgetting: continual.forgetting,
  };
}
