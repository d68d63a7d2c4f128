import { describe, expect, it } from 'vitest';

/** The page's DOM-free modules are plain ES modules: Node runs the very files the browser gets. */
interface ServerEvent {
  event: string;
  data: string;
  id: string | undefined;
}
interface SseModule {
  parseEventStream(body: ReadableStream<Uint8Array>): AsyncGenerator<ServerEvent>;
  followEvents(
    open: (headers: Record<string, string>, signal: AbortSignal) => Promise<Response>,
    options: {
      onEvent: (e: ServerEvent) => void;
      isLast: (e: ServerEvent) => boolean;
      signal: AbortSignal;
      shouldRetry?: (error: unknown) => boolean;
      retries?: number;
      retryMs?: number;
    },
  ): Promise<void>;
  EventStreamError: new (...args: never[]) => Error;
}
type Version = { id: string; seq: number; parentId: string | null; metrics?: Record<string, unknown> };
interface LineageModule {
  lineageOf(versions: Version[], id: string): Version[];
  rowBands(chain: Version[], layer: string): { stream: string; seq: number; from: number; to: number }[];
  timelineLanes(versions: Version[]): { version: Version; lane: number }[];
  usageGrid(usage: unknown):
    | {
        gridRows: number;
        gridCols: number;
        rowsPerCell: number;
        colsPerCell: number;
        used: number;
        binned: boolean;
      }
    | undefined;
  accuracyMatrix(chain: Version[]): {
    labels: string[];
    cells: { row: string; stream: string; value: number }[];
  };
}

const load = async <T>(file: string): Promise<T> =>
  (await import(new URL(`../../ui/js/${file}`, import.meta.url).href)) as T;
const sse = await load<SseModule>('sse.js');
const lineage = await load<LineageModule>('lineage.js');

/** A body that delivers `chunks` as separate reads, as a network would. */
function body(chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
}

async function collect(stream: ReadableStream<Uint8Array>): Promise<ServerEvent[]> {
  const out: ServerEvent[] = [];
  for await (const e of sse.parseEventStream(stream)) out.push(e);
  return out;
}

describe('event-stream parser (fetch-based SSE)', () => {
  it('parses events split anywhere across reads, with CRLF, comments, multi-line data and ids', async () => {
    const text =
      ': keep-alive\r\n\r\nid: 1\r\nevent: progress\r\ndata: {"step":1}\r\n\r\n' +
      'id:2\nevent:metrics\ndata: line one\ndata:line two\n\n' +
      'data: no event name\r\rid: 3\nevent: done\ndata: {}\n\n' +
      'event: cut\ndata: never finished';
    // Every split point, including one inside "\r\n".
    for (let cut = 1; cut < text.length; cut += 7) {
      const events = await collect(body([text.slice(0, cut), text.slice(cut)]));
      expect(events).toEqual([
        { event: 'progress', data: '{"step":1}', id: '1' },
        { event: 'metrics', data: 'line one\nline two', id: '2' },
        { event: 'message', data: 'no event name', id: '2' },
        { event: 'done', data: '{}', id: '3' },
      ]);
    }
  });

  it('reconnects with Last-Event-ID after a drop and stops at the last event', async () => {
    const seen: Array<string | undefined> = [];
    const streams = [
      'id: 1\nevent: progress\ndata: {}\n\nid: 2\nevent: progress\ndata: {}\n\n', // dropped before the end
      'id: 3\nevent: done\ndata: {"versionId":"v"}\n\nid: 4\nevent: ignored\ndata: {}\n\n',
    ];
    const events: ServerEvent[] = [];
    await sse.followEvents(
      async (headers) => {
        seen.push(headers['last-event-id']);
        return new Response(body([streams.shift() ?? '']));
      },
      {
        onEvent: (e) => events.push(e),
        isLast: (e) => e.event === 'done',
        signal: new AbortController().signal,
        retryMs: 1,
      },
    );
    expect(seen).toEqual([undefined, '2']);
    expect(events.map((e) => e.id)).toEqual(['1', '2', '3']);
  });

  it('gives up with a typed error after consecutive failures, and rethrows final ones at once', async () => {
    let opens = 0;
    const failing = sse.followEvents(
      async () => {
        opens++;
        throw new TypeError('connection refused');
      },
      {
        onEvent: () => {},
        isLast: () => false,
        signal: new AbortController().signal,
        retries: 2,
        retryMs: 1,
      },
    );
    await expect(failing).rejects.toBeInstanceOf(sse.EventStreamError);
    expect(opens).toBe(3);
    const notFound = new Error('404');
    await expect(
      sse.followEvents(
        async () => {
          throw notFound;
        },
        {
          onEvent: () => {},
          isLast: () => false,
          signal: new AbortController().signal,
          shouldRetry: () => false,
        },
      ),
    ).rejects.toBe(notFound);
  });
});

describe('lineage helpers', () => {
  const layer = 'blocks.0.peer';
  const v = (seq: number, parent: number | null, metrics?: Record<string, unknown>): Version => ({
    id: `v${seq}`,
    seq,
    parentId: parent === null ? null : `v${parent}`,
    ...(metrics ? { metrics } : {}),
  });
  // v1 -> v2 (a) -> v3 (b); v4 (c) branches from v2 after a rollback.
  const versions = [
    v(1, null),
    v(2, 1, { stream: 'a', rowsAdded: { [layer]: [4, 8] } }),
    v(3, 2, {
      stream: 'b',
      rowsAdded: { [layer]: [8, 12] },
      continual: { streams: ['a', 'b'], R: [[0.9], [0.7, 0.95]] },
    }),
    v(4, 2, { stream: 'c', rowsAdded: { [layer]: [8, 10] } }),
  ];

  it('follows parents, not commit order, and marks the rows each stream of that lineage added', () => {
    expect(lineage.lineageOf(versions, 'v4').map((x) => x.seq)).toEqual([1, 2, 4]);
    expect(lineage.rowBands(lineage.lineageOf(versions, 'v4'), layer)).toEqual([
      { stream: 'a', seq: 2, from: 4, to: 8 },
      { stream: 'c', seq: 4, from: 8, to: 10 },
    ]);
    expect(lineage.rowBands(lineage.lineageOf(versions, 'v3'), 'blocks.1.peer')).toEqual([]);
  });

  it('puts a branch on its own lane', () => {
    expect(lineage.timelineLanes(versions).map((p) => [p.version.seq, p.lane])).toEqual([
      [1, 0],
      [2, 0],
      [3, 0],
      [4, 1],
    ]);
  });

  it('reads plain and binned usage grids (bins of binRows x binCols sub-key cells)', () => {
    expect(lineage.usageGrid({ rows: 2, cols: 3, counts: [0, 1, 2, 0, 0, 5] })).toMatchObject({
      gridRows: 2,
      gridCols: 3,
      used: 3,
      binned: false,
    });
    // 300 x 200 experts in bins of 3 x 2: ceil(300/3) x ceil(200/2) = 100 x 100 counts.
    const counts = Array.from({ length: 100 * 100 }, (_, i) => i % 2);
    expect(lineage.usageGrid({ rows: 300, cols: 200, counts, binRows: 3, binCols: 2 })).toMatchObject({
      gridRows: 100,
      gridCols: 100,
      rowsPerCell: 3,
      colsPerCell: 2,
      used: 5000,
      binned: true,
    });
    expect(lineage.usageGrid({ rows: 300, cols: 200, counts: [1, 2, 3] })).toBeUndefined();
  });

  it('labels the accuracy matrix rows with the training versions, keeping a lower-triangular R', () => {
    const matrix = lineage.accuracyMatrix(lineage.lineageOf(versions, 'v3'));
    expect(matrix.labels).toEqual(['v2 · a', 'v3 · b']);
    expect(matrix.cells).toEqual([
      expect.objectContaining({ row: 'v2 · a', stream: 'a', value: 0.9 }),
      expect.objectContaining({ row: 'v3 · b', stream: 'a', value: 0.7 }),
      expect.objectContaining({ row: 'v3 · b', stream: 'b', value: 0.95 }),
    ]);
  });
});
