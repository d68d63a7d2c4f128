import { describe, expect, it } from 'vitest';
import { parseSse, type SseEvent } from './sse.js';

async function collect(chunks: string[]): Promise<SseEvent[]> {
  const encoder = new TextEncoder();
  async function* body() {
    for (const c of chunks) yield encoder.encode(c);
  }
  const out: SseEvent[] = [];
  for await (const e of parseSse(body())) out.push(e);
  return out;
}

describe('parseSse', () => {
  it('parses id, event and multi-line data, across arbitrary chunk boundaries', async () => {
    const text =
      'id: 1\nevent: progress\ndata: {"step":1}\n\n: keep-alive\n\nid: 2\nevent: done\ndata: a\ndata: b\n\n';
    const whole = await collect([text]);
    const split = await collect(text.split(''));
    expect(whole).toEqual([
      { id: '1', event: 'progress', data: '{"step":1}' },
      { id: '2', event: 'done', data: 'a\nb' },
    ]);
    expect(split).toEqual(whole);
  });

  it('accepts CRLF and CR line endings, defaults the event name, drops an unterminated event', async () => {
    const events = await collect(['data: x\r', '\n\r\ndata:y\r\rdata: never dispatched']);
    expect(events).toEqual([
      { id: undefined, event: 'message', data: 'x' },
      { id: undefined, event: 'message', data: 'y' },
    ]);
  });

  it('keeps the last id for later events (the Last-Event-ID a reconnect sends)', async () => {
    const events = await collect(['id: 7\ndata: a\n\ndata: b\n\n']);
    expect(events.map((e) => e.id)).toEqual(['7', '7']);
  });
});
