import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SMALL_CLASSIFIER, smallRecords } from '../support/test-app.js';
import { launchChromium, type TestBrowser } from './support/chromium.js';
import { type JobView, type SeededServer, startSeededServer } from './support/seeded-server.js';

/** Screenshots land in the repository's `test-results/` (git-ignored). */
const RESULTS = fileURLToPath(new URL('../../../../test-results/', import.meta.url));
const SETUP_MS = 240_000;

interface Explain {
  layers: { layer: string; heads: { experts: { id: number; row: number; col: number; gate: number }[] }[] }[];
}

let server: SeededServer;
let browser: TestBrowser;
let page: Page;
let modelId: string;

beforeAll(async () => {
  await mkdir(RESULTS, { recursive: true });
  server = await startSeededServer();
  const { acme, other } = server.keys;
  // Grid rows can grow from 4 to 16: each growth job adds sub-key rows for its stream.
  const model = await server.call<{ id: string }>('POST', '/v1/models', acme, {
    name: 'dashboard-model',
    kind: 'classifier',
    config: SMALL_CLASSIFIER,
    // Every version then carries class prototypes, which the predict panel reports and can switch off.
    defaultStrategy: { plugins: ['freeze-and-grow', 'replay', 'class-prototypes'] },
  });
  modelId = model.id;
  await server.call('POST', `/v1/models/${modelId}/streams/first/records`, acme, smallRecords(240, 1));
  await server.call('POST', `/v1/models/${modelId}/streams/second/records`, acme, smallRecords(240, 2));
  const job = await server.call<JobView>('POST', `/v1/models/${modelId}/jobs`, acme, {
    stream: 'first',
    iterations: 40,
    promote: 'production',
  });
  await server.waitForJob(acme, job.id);
  await server.call('POST', '/v1/models', other, {
    name: 'other-tenant-secret',
    kind: 'classifier',
    config: SMALL_CLASSIFIER,
  });
  browser = await launchChromium();
  page = await browser.newPage();
}, SETUP_MS);

afterAll(async () => {
  await browser?.close();
  await server?.close();
}, SETUP_MS);

/** The usage heatmap's raster as drawn: its data URL, grid rows, and how many pixels are painted. */
async function heatmap(p: Page) {
  return p.evaluate(async () => {
    const chart = document.querySelector<HTMLElement>('#usage-chart [data-rows]');
    // The raster's own image (the colour legend is an image too); Plot sets it as xlink:href.
    const image = chart?.querySelector('g.usage-raster image');
    const href =
      image?.getAttributeNS('http://www.w3.org/1999/xlink', 'href') ?? image?.getAttribute('href') ?? '';
    let painted = 0;
    if (href) {
      const img = new Image();
      img.src = href;
      await img.decode();
      const canvas = document.createElement('canvas');
      canvas.width = img.naturalWidth;
      canvas.height = img.naturalHeight;
      const ctx = canvas.getContext('2d');
      ctx?.drawImage(img, 0, 0);
      const pixels = ctx?.getImageData(0, 0, canvas.width, canvas.height).data ?? new Uint8ClampedArray();
      for (let i = 3; i < pixels.length; i += 4) if ((pixels[i] ?? 0) > 0) painted++;
    }
    return {
      href,
      painted,
      rows: Number(chart?.dataset.rows ?? 0),
      versionId: chart?.dataset.versionId ?? '',
    };
  });
}

describe('operator dashboard in headless Chromium', () => {
  it('loads, takes the key once, and lists only the key’s tenant’s models, without console errors', async () => {
    await page.goto(`${server.url}/ui`);
    await page.waitForSelector('#key-form:not([hidden])');
    await page.fill('#key-input', server.keys.acme);
    await page.click('#key-form button[type=submit]');
    await page.waitForSelector('body[data-ready=model]');
    expect(await page.locator('#model-list [data-model-id]').allTextContents()).toEqual([
      expect.stringContaining('dashboard-model'),
    ]);
    expect(await page.textContent('body')).not.toContain('other-tenant-secret');
    // Kept for the tab: a reload does not ask again.
    await page.reload();
    await page.waitForSelector('body[data-ready=model]');
    expect(await page.isVisible('#key-form')).toBe(false);
    await page.screenshot({ path: `${RESULTS}dashboard-1-loaded.png`, fullPage: true });
    expect(browser.errors).toEqual([]);
  });

  it('lists every version in the timeline, with aliases and the alias log', async () => {
    const { versions } = await server.call<{ versions: { id: string; seq: number }[] }>(
      'GET',
      `/v1/models/${modelId}/versions`,
      server.keys.acme,
    );
    expect(versions.length).toBe(2);
    const rows = page.locator('#version-table tbody tr');
    expect(await rows.evaluateAll((trs) => trs.map((tr) => (tr as HTMLElement).dataset.versionId))).toEqual(
      versions.map((v) => v.id),
    );
    expect(await page.textContent(`#version-table tr[data-seq="2"]`)).toContain('production');
    expect(await page.textContent('#alias-history')).toContain('production');
    expect(await page.locator('#timeline svg circle').count()).toBeGreaterThanOrEqual(2);
    expect(browser.errors).toEqual([]);
  });

  it('draws the usage heatmap and accuracy matrix, follows a growth job live, and redraws after it', async () => {
    await page.waitForSelector('#usage-chart [data-rows] g.usage-raster image');
    const before = await heatmap(page);
    expect(before.painted).toBeGreaterThan(0);
    expect(before.href).toMatch(/^data:image\/png;base64,/);
    expect(await page.locator('#accuracy-chart svg rect').count()).toBeGreaterThan(0);
    expect(await page.textContent('#accuracy-stats')).toContain('ACC');

    // Start the growth job from the page: its progress arrives over SSE (fetch + Authorization).
    await page.selectOption('#job-stream', 'second');
    await page.fill('#job-form input[name=iterations]', '60');
    await page.click('#job-form button[type=submit]');
    await page.waitForSelector('#job-live:not([hidden]) #job-progress');
    await page.waitForFunction(
      () => Number(document.querySelector<HTMLProgressElement>('#job-progress')?.value) > 0,
    );
    await page.screenshot({ path: `${RESULTS}dashboard-2-training.png`, fullPage: true });
    await page.waitForSelector('#job-live[data-finished]', { timeout: 90_000 });
    const jobId = await page.getAttribute('#job-live', 'data-job-id');
    const job = await server.call<JobView>('GET', `/v1/jobs/${jobId}`, server.keys.acme);
    expect(job.status).toBe('succeeded');
    expect(await page.textContent('#job-status')).toBe('succeeded');
    expect(
      await page.$eval(
        '#job-progress',
        (p) => (p as HTMLProgressElement).value === (p as HTMLProgressElement).max,
      ),
    ).toBe(true);
    expect(await page.locator('#loss-chart svg path').count()).toBeGreaterThan(0);

    // The page moved to the new version: timeline row, heatmap with the grown rows outlined.
    await page.waitForSelector(`#version-table tr.selected[data-version-id="${job.resultVersionId}"]`);
    await page.waitForSelector(
      `#usage-chart [data-version-id="${job.resultVersionId}"] g.usage-raster image`,
    );
    const after = await heatmap(page);
    expect(after.painted).toBeGreaterThan(0);
    expect(after.rows).toBeGreaterThan(before.rows);
    expect(after.href).not.toBe(before.href);
    expect(await page.textContent('#usage-chart')).toContain('second');
    expect(await page.locator('#accuracy-chart svg rect').count()).toBeGreaterThan(0);
    await page.screenshot({ path: `${RESULTS}dashboard-3-grown.png`, fullPage: true });
    expect(browser.errors).toEqual([]);
  });

  it('shows the experts (grid positions, gates) that the API’s explain reports for the same input', async () => {
    await page.click('#predict-form button[type=submit]');
    await page.waitForSelector('#predict-output tr.expert');
    const inputs = JSON.parse(await page.inputValue('#predict-input')) as number[];
    const target = await page.inputValue('#predict-target');
    expect(target).toMatch(/^version:/);
    const api = await server.call<{ outputs: { class: number }[]; explain: Explain[] }>(
      'POST',
      `/v1/models/${modelId}/predict`,
      server.keys.acme,
      { inputs: [inputs], version: target.slice('version:'.length), explain: true },
    );
    const expected = (api.explain[0]?.layers ?? []).flatMap((layer) =>
      layer.heads.flatMap((head, h) =>
        head.experts.map((e) => `${layer.layer}/${h}/${e.id}@(${e.row},${e.col})`),
      ),
    );
    expect(expected.length).toBeGreaterThan(0);
    const shown = await page.locator('#predict-output tr.expert').evaluateAll((trs) =>
      trs.map((tr) => {
        const el = tr as HTMLElement;
        const cells = Array.from(el.querySelectorAll('td')).map((td) => td.textContent ?? '');
        return `${el.dataset.layer}/${el.dataset.head}/${el.dataset.expertId}@${(cells[3] ?? '').replace(/\s/g, '')}`;
      }),
    );
    expect(shown).toEqual(expected);
    expect(await page.textContent('.predicted-class')).toBe(String(api.outputs[0]?.class));
    // The same experts are circled on the usage heatmap of the layer shown.
    const layer = await page.getAttribute('#usage-chart [data-layer]', 'data-layer');
    const circled = expected.filter((e) => e.startsWith(`${layer}/`)).length;
    await page.waitForFunction(
      (n) => document.querySelectorAll('#usage-chart g.fired-experts circle').length === n,
      circled,
    );
    await page.screenshot({ path: `${RESULTS}dashboard-4-predict.png`, fullPage: true });
    expect(browser.errors).toEqual([]);
  });

  it('reports the class prototypes that corrected the probabilities, and serves the head alone without them', async () => {
    const inputs = JSON.parse(await page.inputValue('#predict-input')) as number[];
    const version = (await page.inputValue('#predict-target')).slice('version:'.length);
    const shownProbabilities = () =>
      page
        .locator('#predict-output .prediction meter')
        .evaluateAll((ms) => ms.map((m) => (m as HTMLMeterElement).value));
    const api = (prototypes: boolean) =>
      server.call<{
        outputs: { probabilities: number[] }[];
        prototypes: { centroids: number; mode: string } | null;
      }>('POST', `/v1/models/${modelId}/predict`, server.keys.acme, {
        inputs: [inputs],
        version,
        prototypes,
      });
    const corrected = await api(true);
    expect(corrected.prototypes?.centroids).toBeGreaterThan(0);
    expect(await page.textContent('#predict-prototypes-note')).toContain(
      `${corrected.prototypes?.centroids} centroids`,
    );
    expect(await shownProbabilities()).toEqual(
      corrected.outputs[0]?.probabilities.map((p) => expect.closeTo(p, 6)),
    );

    await page.uncheck('#predict-prototypes');
    await page.click('#predict-form button[type=submit]');
    await page.waitForSelector('#predict-output .prediction');
    expect(await page.locator('#predict-prototypes-note').count()).toBe(0);
    const head = await api(false);
    expect(head.prototypes).toBeNull();
    expect(head.outputs[0]?.probabilities).not.toEqual(corrected.outputs[0]?.probabilities);
    expect(await shownProbabilities()).toEqual(
      head.outputs[0]?.probabilities.map((p) => expect.closeTo(p, 6)),
    );
    await page.check('#predict-prototypes');
    expect(browser.errors).toEqual([]);
  });

  it('shows another tenant’s key only that tenant’s models', async () => {
    const second = await browser.context.newPage();
    await second.goto(`${server.url}/ui`);
    // sessionStorage is per tab: the new tab asks for a key.
    await second.waitForSelector('#key-form:not([hidden])');
    await second.fill('#key-input', server.keys.other);
    await second.click('#key-form button[type=submit]');
    await second.waitForSelector('body[data-ready=model]');
    expect(await second.locator('#model-list [data-model-id]').allTextContents()).toEqual([
      expect.stringContaining('other-tenant-secret'),
    ]);
    expect(await second.textContent('body')).not.toContain('dashboard-model');
    expect(await second.locator('#version-table tbody tr').count()).toBe(1);
    await second.screenshot({ path: `${RESULTS}dashboard-5-other-tenant.png`, fullPage: true });
    await second.close();
    expect(browser.errors).toEqual([]);
  });
});
