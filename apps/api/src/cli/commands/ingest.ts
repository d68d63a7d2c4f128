import { stat } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { CLIENT_OPTIONS, clientFromArgs, printJson } from '../../client/cli-client.js';
import { DEFAULT_PART_BYTES, ingestFile } from '../../client/ingest-file.js';
import { ProgressBar } from '../../client/progress-bar.js';
import { CliError } from '../cli-error.js';

export const INGEST_USAGE = `peer ingest FILE.ndjson --model M --stream S [--max-request-mb 32] [--idempotency-key K] [--quiet]`;

/**
 * `peer ingest FILE --model M --stream S`: streams an NDJSON file to the server (never reading it whole),
 * split into requests of at most `--max-request-mb` at line boundaries, with a progress bar on stderr; prints
 * the combined result as JSON. Re-running it on the unchanged file replays (same idempotency keys).
 */
export async function ingestCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      ...CLIENT_OPTIONS,
      model: { type: 'string' },
      stream: { type: 'string' },
      'max-request-mb': { type: 'string' },
      'idempotency-key': { type: 'string' },
      quiet: { type: 'boolean', default: false },
    },
  });
  const [file, ...extra] = positionals;
  if (!file || extra.length > 0) throw new CliError(`usage: ${INGEST_USAGE}`);
  if (!values.model) throw new CliError('--model is required (a model id or name)');
  if (!values.stream) throw new CliError('--stream is required (the stream name, e.g. task-0)');
  const megabytes = values['max-request-mb'] === undefined ? undefined : Number(values['max-request-mb']);
  if (megabytes !== undefined && !(megabytes > 0 && megabytes <= 1024)) {
    throw new CliError(`--max-request-mb must be in (0, 1024], got ${values['max-request-mb']}`);
  }
  const key = values['idempotency-key'];
  // The server allows 180 characters of [A-Za-z0-9._:-]; part suffixes (`.p12`) take up to 10.
  if (key !== undefined && !/^[A-Za-z0-9._:-]{1,170}$/.test(key)) {
    throw new CliError('--idempotency-key must be 1-170 characters of letters, digits and . _ : -');
  }
  if (!(await stat(file).catch(() => undefined))?.isFile()) throw new CliError(`no such file: ${file}`);

  const client = await clientFromArgs(values);
  const model = await client.resolveModel(values.model);
  const bar = values.quiet ? undefined : new ProgressBar(process.stderr);
  let last: Parameters<ProgressBar['update']>[0] | undefined;
  try {
    const result = await ingestFile({
      client,
      modelId: model.id,
      stream: values.stream,
      path: file,
      maxPartBytes: megabytes === undefined ? DEFAULT_PART_BYTES : Math.floor(megabytes * 1024 * 1024),
      ...(key ? { idempotencyKey: key } : {}),
      onProgress: (state) => {
        last = state;
        bar?.update(state);
      },
    });
    if (last) bar?.update({ ...last, done: result.bytes, records: result.lines }, true);
    bar?.done();
    const { results: _perRequest, ...summary } = result;
    printJson(summary);
    if (result.rejected > 0)
      process.stderr.write(`peer: ${result.rejected} line(s) rejected (see "errors")\n`);
  } finally {
    bar?.done();
  }
}
