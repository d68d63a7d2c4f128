import { call, listOf } from './api.js';

const modelPath = (modelId) => `/v1/models/${encodeURIComponent(modelId)}`;

/**
 * Everything the dashboard lists about one model, loaded through the public API in parallel. Version
 * summaries come without usage grids (large); {@link loadVersion} reads one version in full.
 * @param {string} modelId
 */
export async function loadModelData(modelId) {
  const base = modelPath(modelId);
  const [model, versions, aliases, streams, jobs, adapters] = await Promise.all([
    call('GET', base),
    call('GET', `${base}/versions`).then((b) => listOf(b, 'versions')),
    call('GET', `${base}/aliases`).then((b) => listOf(b, 'aliases')),
    call('GET', `${base}/streams`).then((b) => listOf(b, 'streams')),
    call('GET', `${base}/jobs`).then((b) => listOf(b, 'jobs')),
    call('GET', `${base}/adapters`).then((b) => listOf(b, 'adapters')),
  ]);
  const histories = await Promise.all(
    aliases.map((a) =>
      call('GET', `${base}/aliases/${encodeURIComponent(a.name)}/history`).then((b) =>
        listOf(b, 'moves').map((move) => ({ ...move, name: a.name })),
      ),
    ),
  );
  versions.sort((a, b) => a.seq - b.seq);
  // Newest move first: the log reads like a changelog.
  const moves = histories.flat().sort((a, b) => String(b.at).localeCompare(String(a.at)));
  return { model, versions, aliases, streams, jobs, adapters, moves };
}

/**
 * One version with everything (usage grids included), cached by id: versions are immutable.
 * @type {Map<string, Promise<any>>}
 */
const versionCache = new Map();

/**
 * @param {string} modelId
 * @param {string} versionId
 */
export function loadVersion(modelId, versionId) {
  let pending = versionCache.get(versionId);
  if (!pending) {
    pending = call('GET', `${modelPath(modelId)}/versions/${encodeURIComponent(versionId)}`);
    pending.catch(() => versionCache.delete(versionId)); // retry a failed read next time
    versionCache.set(versionId, pending);
  }
  return pending;
}

/** Forgets cached versions (another key may see other data). */
export function clearVersionCache() {
  versionCache.clear();
}
