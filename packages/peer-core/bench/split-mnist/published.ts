import type { Scenario } from '../../src/continual/scenario.js';

/** A published final average accuracy in %, as text (a range or "–" where the source has none). */
export type PublishedCell = string;

/** One published row: Task-IL / Domain-IL / Class-IL. */
export interface PublishedRow {
  readonly label: string;
  readonly values: Readonly<Record<Scenario, PublishedCell>>;
}

/**
 * Split MNIST final average accuracy (%), van de Ven & Tolias 2019 and van de Ven, Tuytelaars & Tolias 2022
 * (NMI), as DESIGN §7 quotes them; keyed by our `method` (and replay per class).
 */
export const PUBLISHED: Readonly<Record<string, PublishedRow>> = {
  'fine-tune': { label: 'fine-tune (None)', values: { task: '87.2', domain: '59.2', class: '19.9' } },
  joint: { label: 'joint (offline)', values: { task: '99.6', domain: '98.4', class: '97.9–98.2' } },
  ewc: { label: 'EWC', values: { task: '98.6', domain: '64.0', class: '20.0' } },
  lwf: { label: 'LwF', values: { task: '99.6', domain: '71.5', class: '23.9' } },
  'replay/100': {
    label: 'experience replay, 100/class',
    values: { task: '–', domain: '93.8', class: '88.8' },
  },
};

/** Published methods we do not run, listed under the table for reference. */
export const PUBLISHED_ONLY: readonly PublishedRow[] = [
  { label: 'SI', values: { task: '99.1', domain: '65.4', class: '20.0' } },
  { label: 'DGR+distill', values: { task: '99.6', domain: '96.8', class: '91.8' } },
  { label: 'BI-R', values: { task: '–', domain: '97.3', class: '94.4' } },
];

/** The published row for a method of ours, if there is one. */
export function publishedFor(method: string, replayPerClass: number): PublishedRow | undefined {
  return PUBLISHED[method === 'replay' ? `replay/${replayPerClass}` : method];
}

/** The targets of issue #4 in %, per scenario. */
export const TARGETS: Readonly<Record<Scenario, string>> = {
  task: '≥ 99.6',
  domain: '≥ 97.5',
  class: '≥ 95 with ≤ 100 stored/class; ≥ 60 with none',
};
