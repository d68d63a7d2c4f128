import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../http/app-env.js';

/**
 * `/docs`: a browsable API reference rendered in the browser from `/v1/openapi.json`. Self-contained (no
 * CDN script, unlike the usual Swagger/Scalar pages): these machines, and many deployments, have no
 * outbound internet.
 */
export function docsRoutes(app: OpenAPIHono<AppEnv>): void {
  app.get('/docs', (c) => c.html(DOCS_HTML));
}

const DOCS_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>PEER API reference</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px/1.5 system-ui,sans-serif;margin:0;color:#1b1f24;background:#f6f8fa}
header{background:#24292f;color:#fff;padding:16px 24px}header h1{margin:0;font-size:20px}
main{max-width:1000px;margin:0 auto;padding:16px 24px}
details{background:#fff;border:1px solid #d0d7de;border-radius:6px;margin:8px 0}
summary{cursor:pointer;padding:8px 12px;font-family:ui-monospace,monospace}
.m{display:inline-block;width:64px;font-weight:700;text-transform:uppercase}
.get{color:#0969da}.post{color:#1a7f37}.put{color:#9a6700}.delete{color:#cf222e}
.body{padding:0 12px 12px}pre{background:#f6f8fa;padding:8px;overflow:auto;border-radius:4px}
h2{margin-top:24px;text-transform:capitalize}
</style></head><body>
<header><h1>PEER API reference</h1><div id="info"></div></header>
<main id="ops">Loading <a href="/v1/openapi.json">/v1/openapi.json</a>…</main>
<script>
const esc = (s) => String(s).replace(/[&<>"]/g, (ch) => ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'}[ch]));
const resolve = (doc, schema) => schema && schema.$ref ? doc.components.schemas[schema.$ref.split('/').pop()] : schema;
fetch('/v1/openapi.json').then((r) => r.json()).then((doc) => {
  document.getElementById('info').textContent = doc.info.title + ' ' + doc.info.version + ' — ' + (doc.info.description || '');
  const byTag = {};
  for (const [path, item] of Object.entries(doc.paths)) for (const [method, op] of Object.entries(item)) {
    const tag = (op.tags && op.tags[0]) || 'other';
    (byTag[tag] ||= []).push({ path, method, op });
  }
  const out = [];
  for (const [tag, ops] of Object.entries(byTag)) {
    out.push('<h2>' + esc(tag) + '</h2>');
    for (const { path, method, op } of ops) {
      const params = (op.parameters || []).map((p) => '<li><code>' + esc(p.name) + '</code> (' + esc(p.in) + (p.required ? ', required' : '') + ')</li>').join('');
      const body = op.requestBody && Object.entries(op.requestBody.content).map(([type, c]) => '<p>Body <code>' + esc(type) + '</code></p><pre>' + esc(JSON.stringify(resolve(doc, c.schema), null, 2)) + '</pre>').join('');
      const responses = Object.entries(op.responses || {}).map(([status, r]) => '<li><b>' + esc(status) + '</b> ' + esc(r.description || '') + '</li>').join('');
      out.push('<details><summary><span class="m ' + method + '">' + method + '</span>' + esc(path) + ' — ' + esc(op.summary || '') + '</summary><div class="body">'
        + (op.description ? '<p>' + esc(op.description) + '</p>' : '')
        + (params ? '<p>Parameters</p><ul>' + params + '</ul>' : '') + (body || '')
        + '<p>Responses</p><ul>' + responses + '</ul></div></details>');
    }
  }
  document.getElementById('ops').innerHTML = out.join('');
});
</script></body></html>`;
