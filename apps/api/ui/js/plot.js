import { DashboardError } from './dom.js';

/**
 * Observable Plot, loaded by index.html as a classic script (its UMD build, with d3's as the global `d3`)
 * from `/ui/vendor/`: no CDN, no bundler.
 * @returns {any}
 */
export function plotLibrary() {
  const Plot = /** @type {any} */ (globalThis).Plot;
  if (!Plot?.plot) throw new DashboardError('the chart library did not load (/ui/vendor/plot.umd.min.js)');
  return Plot;
}

/** Colours for categorical marks drawn outside a colour scale (stream bands, branches): Tableau 10. */
export const PALETTE = [
  '#4e79a7',
  '#f28e2c',
  '#e15759',
  '#76b7b2',
  '#59a14f',
  '#edc949',
  '#af7aa1',
  '#ff9da7',
  '#9c755f',
  '#bab0ab',
];

/** Colour of versions that no stream trained (the initial weights). */
export const NEUTRAL = '#8c959f';

/**
 * A stable colour per stream name, in order of first appearance over the model's versions, so a stream
 * has the same colour in the timeline and on the usage heatmap.
 * @param {Array<{ metrics?: Record<string, any> }>} versions
 * @returns {Map<string, string>}
 */
export function streamColours(versions) {
  const colours = new Map();
  for (const v of versions) {
    const name = v.metrics?.stream;
    if (typeof name === 'string' && !colours.has(name))
      colours.set(name, PALETTE[colours.size % PALETTE.length]);
  }
  return colours;
}
