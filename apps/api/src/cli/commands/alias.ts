import { parseArgs } from 'node:util';
import { CLIENT_OPTIONS, clientFromArgs, printJson } from '../../client/cli-client.js';
import { CliError } from '../cli-error.js';

export const ALIAS_USAGE = `peer alias --model M                          list aliases
  peer alias --model M --name A --version V     move (or create) alias A to version V (id or seq) [--reason R]
  peer alias --model M --name A --rollback      undo A's last move [--reason R]
  peer alias --model M --name A --history       A's moves, oldest first`;

/**
 * `peer alias`: list, move, roll back an alias or show its history. A move or rollback prints the alias
 * after the change; `--reason` is kept in the alias log.
 */
export async function aliasCommand(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      ...CLIENT_OPTIONS,
      model: { type: 'string' },
      name: { type: 'string' },
      version: { type: 'string' },
      reason: { type: 'string' },
      rollback: { type: 'boolean', default: false },
      history: { type: 'boolean', default: false },
    },
  });
  if (!values.model) throw new CliError(`usage: ${ALIAS_USAGE}`);
  const actions = [values.version !== undefined, values.rollback, values.history].filter(Boolean).length;
  if (actions > 1) throw new CliError('give one of --version, --rollback, --history');
  if (actions === 1 && !values.name)
    throw new CliError('--name is required with --version, --rollback or --history');
  const client = await clientFromArgs(values);
  const model = await client.resolveModel(values.model);
  const base = `/v1/models/${model.id}/aliases`;
  const reason = values.reason ? { reason: values.reason } : {};
  if (!values.name) return printJson(await client.get(base));
  const path = `${base}/${encodeURIComponent(values.name)}`;
  if (values.history) return printJson(await client.get(`${path}/history`));
  if (values.rollback) return printJson(await client.post(`${path}/rollback`, { ...reason }));
  if (values.version !== undefined) {
    // The server takes a version id or its sequence number on the model's line.
    const version = /^\d+$/.test(values.version) ? Number(values.version) : values.version;
    return printJson(await client.put(path, { version, ...reason }));
  }
  printJson(await client.get(path));
}
