import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { CLIENT_OPTIONS, clientFromArgs, printJson } from '../../client/cli-client.js';
import { CliError } from '../cli-error.js';

export const PREDICT_USAGE =
  "peer predict --model M --input '[[...],...]'|@file.json [--alias A | --version V] [--adapters none|auto|name[@version][:weight],...] [--task T] [--explain] [--no-prototypes]";

/** An explicit adapter choice of a predict request. */
interface AdapterChoice {
  name: string;
  /** Sequence number or version id. */
  version?: number | string;
  weight: number;
}

/**
 * `peer predict --model M --input JSON`: `POST /v1/models/{id}/predict` and prints the answer. `--input` is
 * one vector (`[0.1, ...]`) or several (`[[...], [...]]`), inline or `@path` of a JSON file.
 */
export async function predictCommand(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      ...CLIENT_OPTIONS,
      model: { type: 'string' },
      input: { type: 'string' },
      alias: { type: 'string' },
      version: { type: 'string' },
      adapters: { type: 'string' },
      task: { type: 'string' },
      explain: { type: 'boolean', default: false },
      'no-prototypes': { type: 'boolean', default: false },
    },
  });
  if (!values.model || !values.input) throw new CliError(`usage: ${PREDICT_USAGE}`);
  if (values.alias && values.version) throw new CliError('give --alias or --version, not both');
  const inputs = await parseInputs(values.input);
  const body: Record<string, unknown> = { inputs };
  if (values.alias) body.alias = values.alias;
  if (values.adapters) body.adapters = parseAdapters(values.adapters);
  if (values.task !== undefined) {
    const task = Number(values.task);
    if (!Number.isInteger(task) || task < 0)
      throw new CliError(`--task must be a non-negative integer, got ${values.task}`);
    body.task = task;
  }
  if (values.explain) body.explain = true;
  // The head alone, without the class prototypes the version's job saved (if any).
  if (values['no-prototypes']) body.prototypes = false;
  const client = await clientFromArgs(values);
  const model = await client.resolveModel(values.model);
  if (values.version) {
    // Predict pins a version by id; a sequence number (`--version 2`) is looked up first.
    body.version = /^\d+$/.test(values.version)
      ? (await client.get<{ id: string }>(`/v1/models/${model.id}/versions/${values.version}`)).id
      : values.version;
  }
  printJson(await client.post(`/v1/models/${model.id}/predict`, body));
}

/** `--input`: a JSON vector or matrix, inline or `@file`. */
export async function parseInputs(text: string): Promise<number[][]> {
  const source = text.startsWith('@') ? await readFile(text.slice(1), 'utf8') : text;
  let value: unknown;
  try {
    value = JSON.parse(source);
  } catch (error) {
    throw new CliError(`--input is not JSON: ${(error as Error).message}`);
  }
  if (!Array.isArray(value) || value.length === 0)
    throw new CliError('--input must be a non-empty JSON array');
  return (value.every((v) => typeof v === 'number') ? [value] : value) as number[][];
}

/** `--adapters`: `none`, `auto`, or `name[@version][:weight]` separated by commas (weight default 1). */
export function parseAdapters(text: string): 'none' | 'auto' | AdapterChoice[] {
  if (text === 'none' || text === 'auto') return text;
  return text.split(',').map((item) => {
    const match = /^([A-Za-z0-9][A-Za-z0-9._-]*)(?:@([^:]+))?(?::([0-9.eE+-]+))?$/.exec(item.trim());
    if (!match?.[1])
      throw new CliError(
        `--adapters: cannot read ${JSON.stringify(item)} (expected name[@version][:weight])`,
      );
    const weight = match[3] === undefined ? 1 : Number(match[3]);
    if (!Number.isFinite(weight)) throw new CliError(`--adapters: weight of ${match[1]} must be a number`);
    const version = match[2] === undefined ? undefined : /^\d+$/.test(match[2]) ? Number(match[2]) : match[2];
    return { name: match[1], ...(version === undefined ? {} : { version }), weight };
  });
}
