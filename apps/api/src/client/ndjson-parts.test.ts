import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { splitNdjsonFile } from './ndjson-parts.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ndjson-parts-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

describe('splitNdjsonFile', () => {
  it('cuts at line boundaries into ranges of at most maxBytes that cover the file exactly', async () => {
    const lines = Array.from({ length: 50 }, (_, i) => `{"i":${i},"pad":"${'x'.repeat(i % 7)}"}`);
    const text = `${lines.join('\n')}\n`;
    const path = await file('a.ndjson', text);
    const parts = await splitNdjsonFile(path, 100);
    expect(parts[0]?.start).toBe(0);
    expect(parts.at(-1)?.end).toBe(text.length);
    for (const [i, p] of parts.entries()) {
      expect(p.index).toBe(i);
      expect(p.end - p.start).toBeLessThanOrEqual(100);
      expect(text[p.end - 1]).toBe('\n');
      if (i > 0) expect(p.start).toBe(parts[i - 1]?.end);
    }
    expect(parts.reduce((n, p) => n + p.lines, 0)).toBe(50);
    const rebuilt = parts.map((p) => text.slice(p.start, p.end)).join('');
    expect(rebuilt).toBe(text);
  });

  it('keeps a last line without a newline, and gives an over-long line a range of its own', async () => {
    const long = 'y'.repeat(300);
    const text = `{"a":1}\n${long}\n{"b":2}\n{"c":3}`;
    const parts = await splitNdjsonFile(await file('b.ndjson', text), 64);
    expect(parts.map((p) => text.slice(p.start, p.end))).toEqual([
      '{"a":1}\n',
      `${long}\n`,
      '{"b":2}\n{"c":3}',
    ]);
    expect(parts.map((p) => p.lines)).toEqual([1, 1, 2]);
  });

  it('returns one range for a small file and none for an empty one', async () => {
    expect(await splitNdjsonFile(await file('c.ndjson', '{"a":1}\n{"a":2}\n'), 1 << 20)).toEqual([
      { index: 0, start: 0, end: 16, lines: 2 },
    ]);
    expect(await splitNdjsonFile(await file('d.ndjson', ''), 10)).toEqual([]);
  });

  it('finds boundaries across read chunks (lines straddling 1 MiB reads)', async () => {
    const line = `{"x":"${'z'.repeat(1000)}"}\n`;
    const text = line.repeat(3000); // ~3 MB: several 1 MiB reads
    const parts = await splitNdjsonFile(await file('e.ndjson', text), 500_000);
    expect(parts.every((p) => (p.end - p.start) % line.length === 0)).toBe(true);
    expect(parts.reduce((n, p) => n + p.lines, 0)).toBe(3000);
  });

  it('rejects a non-positive maxBytes', async () => {
    await expect(splitNdjsonFile(await file('f.ndjson', '{}\n'), 0)).rejects.toThrow(/maxBytes/);
  });
});
