import { parseArgs } from 'node:util';
import { CLIENT_OPTIONS, clientFromArgs, printJson } from '../../client/cli-client.js';
import { CliError } from '../cli-error.js';

export const VERSIONS_USAGE = 'peer versions --model M';

/** `peer versions --model M`: the model's versions (commit order), as `GET /v1/models/{id}/versions` returns them. */
export async function versionsCommand(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { ...CLIENT_OPTIONS, model: { type: 'string' } } });
  if (!values.model) throw new CliError(`usage: ${VERSIONS_USAGE}`);
  const client = await clientFromArgs(values);
  const model = await client.resolveModel(values.model);
  printJson(await client.get(`/v1/models/${model.id}/versions`));
}
