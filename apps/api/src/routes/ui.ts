import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { ApiError } from '../http/api-error.js';
import type { AppEnv } from '../http/app-env.js';
import { logger } from '../observability/logger.js';
import { loadUiAssets, type UiAsset } from '../ui/ui-assets.js';

/**
 * The page may only talk to this origin and run its own scripts: it holds an API key, so an injected
 * script must not be able to send it anywhere. Plot writes inline `style` attributes and a `<style>` in
 * its SVG, and the raster mark draws into a `data:` image, hence those two allowances.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'none'",
].join('; ');

/**
 * `/ui`: the operator dashboard, a static page that reads everything through the public API with the
 * key the operator types in (so tenant isolation is the API's). Files are read once, when the routes are
 * mounted; a missing chart library only disables the page (503), never the API.
 */
export function uiRoutes(
  app: OpenAPIHono<AppEnv>,
  assets: Promise<Map<string, UiAsset>> = loadUiAssets(),
): void {
  // Settle the rejection here so a missing file is reported once and never crashes the process.
  const loaded = assets.catch((error: unknown) => {
    logger.error('dashboard assets unavailable', { error });
    return error instanceof Error ? error : new Error(String(error));
  });
  const serve = async (c: Context<AppEnv>, path: string) => {
    const files = await loaded;
    if (files instanceof Error) {
      throw new ApiError(503, 'unavailable', `the dashboard is unavailable: ${files.message}`);
    }
    const file = files.get(path);
    if (!file) throw new ApiError(404, 'not_found', `no dashboard file ${JSON.stringify(path)}`);
    const headers: Record<string, string> = {
      'Content-Type': file.contentType,
      ETag: file.etag,
      // Revalidate on every load: a redeploy must never leave a stale script next to a newer API.
      'Cache-Control': 'no-cache',
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
    };
    if (path.endsWith('.html')) headers['Content-Security-Policy'] = CONTENT_SECURITY_POLICY;
    if (c.req.header('if-none-match') === file.etag) return c.body(null, 304, headers);
    return c.body(file.body as Uint8Array<ArrayBuffer>, 200, headers);
  };
  app.get('/ui', (c) => serve(c, 'index.html'));
  app.get('/ui/*', (c) => serve(c, c.req.path.slice('/ui/'.length) || 'index.html'));
}
