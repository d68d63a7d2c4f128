import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiRouter } from '../../src/app.js';
import { errorBody, toApiError } from '../../src/http/error-response.js';
import { uiRoutes } from '../../src/routes/ui.js';
import { loadUiAssets, resolvePackageFile, UiAssetError } from '../../src/ui/ui-assets.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
}, 120_000);
afterAll(async () => {
  await t.close();
});

describe('/ui static files', () => {
  it('serves the page without a key, with a CSP that keeps the key on this origin', async () => {
    for (const path of ['/ui', '/ui/']) {
      const res = await t.call('GET', path);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("connect-src 'self'");
      expect(csp).toContain("script-src 'self'");
      const html = await res.text();
      expect(html).toContain('<script type="module" src="/ui/js/main.js">');
      // No CDN: every script and stylesheet the page loads is served by this API.
      for (const [, src] of html.matchAll(/(?:src|href)="([^"]+)"/g)) {
        expect(src?.startsWith('/ui/') || src === 'data:,').toBe(true);
      }
    }
  });

  it('serves every script the page imports, and the chart library from node_modules', async () => {
    const html = await (await t.call('GET', '/ui')).text();
    const scripts = [...html.matchAll(/src="(\/ui\/[^"]+)"/g)].map((m) => m[1] ?? '');
    expect(scripts).toEqual(['/ui/vendor/d3.min.js', '/ui/vendor/plot.umd.min.js', '/ui/js/main.js']);
    // Follow the module graph from main.js: a missing file would be a 404 and a console error in the page.
    const seen = new Set<string>();
    const queue = ['/ui/js/main.js'];
    while (queue.length > 0) {
      const path = queue.pop() ?? '';
      if (seen.has(path)) continue;
      seen.add(path);
      const res = await t.call('GET', path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
      const source = await res.text();
      for (const [, spec] of source.matchAll(/from '(\.[^']+)'/g))
        queue.push(new URL(spec ?? '', `http://x${path}`).pathname);
    }
    expect(seen.size).toBeGreaterThanOrEqual(10);
    const plot = await t.call('GET', '/ui/vendor/plot.umd.min.js');
    expect(plot.status).toBe(200);
    expect(await plot.text()).toContain('@observablehq/plot');
    const d3 = await t.call('GET', '/ui/vendor/d3.min.js');
    expect((await d3.text()).length).toBeGreaterThan(100_000);
  });

  it('answers 304 to a matching If-None-Match and 404 (JSON) to unknown or traversing paths', async () => {
    const first = await t.call('GET', '/ui/style.css');
    const etag = first.headers.get('etag') ?? '';
    expect(first.headers.get('cache-control')).toBe('no-cache');
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
    const again = await t.call('GET', '/ui/style.css', { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    for (const path of [
      '/ui/nope.js',
      '/ui/../package.json',
      '/ui/%2e%2e/package.json',
      '/ui/js/../../package.json',
    ]) {
      const res = await t.call('GET', path);
      expect(res.status, path).toBe(404);
      expect((await res.json()).error.code).toBe('not_found');
    }
  });

  it('leaves test files out of the served set', async () => {
    const assets = await loadUiAssets();
    expect([...assets.keys()].some((k) => k.includes('.test.'))).toBe(false);
    expect(assets.has('index.html')).toBe(true);
  });
});

describe('/ui when the chart library is missing', () => {
  it('fails with a named error at start-up and 503 on the page, never crashing the API', async () => {
    await expect(resolvePackageFile('@peer/no-such-chart-lib', 'dist/x.js')).rejects.toBeInstanceOf(
      UiAssetError,
    );
    const app = apiRouter();
    uiRoutes(app, Promise.reject(new UiAssetError('x', 'x is not installed (run npm ci)')));
    app.onError((error, c) => {
      const apiError = toApiError(error);
      return c.json(errorBody(apiError), apiError.status as 503);
    });
    const res = await app.request('/ui');
    expect(res.status).toBe(503);
    expect((await res.json()).error).toMatchObject({
      code: 'unavailable',
      message: expect.stringContaining('npm ci'),
    });
  });
});
