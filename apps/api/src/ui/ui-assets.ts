import { createHash } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { access, readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One file of the dashboard, held in memory: handlers never touch the disk. */
export interface UiAsset {
  readonly body: Uint8Array;
  readonly contentType: string;
  /** Strong validator (sha256 prefix) so browsers revalidate cheaply with `If-None-Match`. */
  readonly etag: string;
}

/** A dashboard file that could not be found or read at start-up. */
export class UiAssetError extends Error {
  constructor(
    readonly file: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`@peer/api (ui): ${message}`, options);
    this.name = 'UiAssetError';
  }
}

/** The page's own files (`apps/api/ui/`), served as they are: plain ES modules, no build step. */
export const UI_ROOT = fileURLToPath(new URL('../../ui/', import.meta.url));

/**
 * Prebuilt browser files of the chart library, served under `/ui/vendor/`: Observable Plot's UMD build
 * expects d3's UMD build as the global `d3`. Both come from node_modules, so `npm ci` is the only build.
 */
export const VENDOR_FILES: Readonly<Record<string, { pkg: string; path: string }>> = {
  'd3.min.js': { pkg: 'd3', path: 'dist/d3.min.js' },
  'plot.umd.min.js': { pkg: '@observablehq/plot', path: 'dist/plot.umd.min.js' },
};

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
};

/**
 * Reads every dashboard file and the vendor builds once, keyed by their path under `/ui/` (`index.html`,
 * `js/main.js`, `vendor/d3.min.js`). Test files (`*.test.*`) are left out.
 */
export async function loadUiAssets(root: string = UI_ROOT): Promise<Map<string, UiAsset>> {
  const assets = new Map<string, UiAsset>();
  for (const file of await listFiles(root)) {
    const type = CONTENT_TYPES[extname(file)];
    const key = relative(root, file).split(sep).join('/');
    if (!type || key.includes('.test.')) continue;
    assets.set(key, asset(await readAsset(file), type));
  }
  for (const [name, { pkg, path }] of Object.entries(VENDOR_FILES)) {
    const file = await resolvePackageFile(pkg, path);
    assets.set(`vendor/${name}`, asset(await readAsset(file), CONTENT_TYPES['.js'] ?? 'text/javascript'));
  }
  return assets;
}

/**
 * The absolute path of a file inside an installed package. Both packages' `exports` hide their `dist/`
 * files (only a `umd` condition points at them, which Node's resolver does not take), so this walks the
 * same node_modules folders that `require` would search.
 */
export async function resolvePackageFile(pkg: string, path: string): Promise<string> {
  const dirs = createRequire(import.meta.url).resolve.paths(pkg) ?? [];
  for (const dir of dirs) {
    const candidate = join(dir, pkg, path);
    if (await exists(candidate)) return candidate;
  }
  throw new UiAssetError(`${pkg}/${path}`, `${pkg}/${path} is not installed (run npm ci)`);
}

function asset(body: Uint8Array, contentType: string): UiAsset {
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
  return { body, contentType, etag };
}

async function readAsset(file: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(file));
  } catch (error) {
    throw new UiAssetError(file, `cannot read ${file}`, { cause: error });
  }
}

async function listFiles(dir: string): Promise<string[]> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    throw new UiAssetError(dir, `cannot list ${dir}`, { cause: error });
  }
  const files: string[] = [];
  for (const entry of entries) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await listFiles(full)));
    else if (entry.isFile()) files.push(full);
  }
  return files.sort();
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}
