/**
 * Tiny DOM helpers. Text always goes in through text nodes, never innerHTML, so names and messages that
 * came from the API cannot inject markup.
 */

/**
 * Creates an element: `h('td', { class: 'num', dataset: { id } }, 'text', child)`.
 * @param {string} tag
 * @param {Record<string, unknown>} [attrs]
 * @param {...(Node | string | number | null | undefined | false)} children
 * @returns {HTMLElement}
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'dataset') Object.assign(el.dataset, value);
    else if (name.startsWith('on') && typeof value === 'function') el.addEventListener(name.slice(2), value);
    else if (name in el && typeof value !== 'string') el[name] = value;
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  append(el, ...children);
  return el;
}

/**
 * Appends children, skipping empty ones.
 * @param {Element} el
 * @param {...(Node | string | number | null | undefined | false)} children
 */
export function append(el, ...children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === 'number' ? String(child) : child);
  }
}

/**
 * Replaces an element's content.
 * @param {Element} el
 * @param {...(Node | string | number | null | undefined | false)} children
 */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, ...children);
}

/**
 * A table from a header row and body rows (each cell a node or text).
 * @param {string[]} headers
 * @param {Array<Array<Node | string | number>>} rows
 * @param {Record<string, unknown>} [attrs]
 */
export function table(headers, rows, attrs = {}) {
  return h(
    'table',
    attrs,
    h('thead', {}, h('tr', {}, ...headers.map((text) => h('th', {}, text)))),
    h('tbody', {}, ...rows.map((cells) => h('tr', {}, ...cells.map((cell) => h('td', {}, cell))))),
  );
}

/**
 * An element of index.html by id.
 * @param {string} id
 * @returns {HTMLElement}
 */
export function byId(id) {
  const el = document.getElementById(id);
  if (!el) throw new DashboardError(`element #${id} is missing from index.html`);
  return el;
}

/** A fault of the page itself (not of an API call). */
export class DashboardError extends Error {
  /** @param {string} message */
  constructor(message) {
    super(`dashboard: ${message}`);
    this.name = 'DashboardError';
  }
}

/** A number with at most `digits` decimals ("–" when absent). */
export function num(value, digits = 3) {
  return typeof value === 'number' && Number.isFinite(value) ? String(Number(value.toFixed(digits))) : '–';
}

/** A short local date-time. */
export function when(iso) {
  return iso ? new Date(iso).toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' }) : '–';
}

/** The first 8 characters of an id or hash, for display (the full value goes in a title). */
export function short(id) {
  return id ? h('code', { title: id }, String(id).slice(0, 8)) : '–';
}
