import { ExpertUsage } from '../../src/metrics/expert-usage.js';
import { CharTransformer, natsToBits } from '../../src/models/char-transformer.js';
import { charTransformerTokenFlops, ffnTokenFlops, trainingFlops } from '../../src/models/ffn/flop-count.js';
import { sampleWindows } from '../../src/train/batches.js';
import { languageModelObjective } from '../../src/train/objectives.js';
import { Trainer } from '../../src/train/trainer.js';
import { createRandom } from '../../src/util/random.js';
import { baseModel, type LmCase } from './cases.js';
import type { CharSplit } from './moby-dick.js';
import { evaluationWindows } from './moby-dick.js';

/** How one case is trained and evaluated. */
export interface RunSettings {
  /** Training FLOPs every case may spend (the equal-compute budget). */
  readonly budgetFlops: number;
  readonly batchSize: number;
  readonly learningRate: number;
  /** Most validation windows (of contextLength + 1 characters) to evaluate; all of the tail by default. */
  readonly evalWindows?: number;
  /** Seed of the model init and of the batch order (the same for every case). */
  readonly seed: number;
  /** Training windows whose statistics replace the query-BN running averages before evaluation (PreciseBN). */
  readonly calibrationWindows: number;
  /** Steps between progress lines. */
  readonly progressEvery: number;
  readonly log: (line: string) => void;
}

/** One JSON row of `bench-results/char-lm.json` (issue #4 item 6), plus the figures it came from. */
export interface LmRow {
  readonly benchmark: 'char-lm';
  readonly ffn: LmCase['ffn'];
  readonly n_experts: number;
  readonly train_flops: number;
  readonly val_bpc: number;
  /** Validation bpc with the query-BN running averages as training left them (before PreciseBN); null without BN. */
  readonly val_bpc_running_bn: number | null;
  readonly usage: number | null;
  readonly unevenness: number | null;
  readonly case: string;
  readonly group: LmCase['group'];
  readonly query_bn: boolean | null;
  readonly flops_per_token: number;
  readonly ffn_flops_per_token: number;
  readonly steps: number;
  readonly train_tokens: number;
  readonly final_train_loss_nats: number;
  readonly val_tokens: number;
  readonly params: number;
  readonly wall_s: number;
}

/**
 * Trains `c` on the training split until the FLOP budget is spent (whole steps: steps = floor(budget /
 * (FLOPs per token × tokens per step))), then measures validation bits per character in inference mode and,
 * for routed FFNs, expert usage and unevenness of the middle block over the same validation pass.
 */
export async function runCase(c: LmCase, data: CharSplit, s: RunSettings): Promise<LmRow> {
  const start = performance.now();
  const lm = new CharTransformer(
    { vocabSize: data.vocab.size, ...baseModel, ...c.model, ffn: c.ffn },
    { seed: s.seed },
  );
  const trainer = new Trainer(lm, {
    learningRate: s.learningRate,
    progressEvery: s.progressEvery,
    checkLeaks: true,
  });
  try {
    const perToken = trainingFlops(charTransformerTokenFlops(lm.config));
    const tokensPerStep = s.batchSize * lm.config.contextLength;
    const steps = Math.max(1, Math.floor(s.budgetFlops / (perToken * tokensPerStep)));
    s.log(
      `[char-lm] ${c.name}: ffn ${c.ffn}, ${(perToken / 1e6).toFixed(3)} MFLOP/token (FFN ${(trainingFlops(ffnTokenFlops(c.ffn, lm.config)) / 1e3).toFixed(1)} kFLOP), ${steps} steps x ${tokensPerStep} tokens`,
    );
    const history = await trainer.fit({
      steps,
      batchSize: s.batchSize,
      loss: languageModelObjective(lm, data.train, { batchSize: s.batchSize, seed: s.seed }),
      onProgress: (p) =>
        s.log(
          `[char-lm] ${c.name}: step ${p.step}/${steps} loss ${p.loss.toFixed(3)} nats, ${Math.round(p.examplesPerSec * lm.config.contextLength)} tok/s, ${(p.elapsedMs / 1000).toFixed(0)} s`,
        ),
    });
    const middle = lm.blocks[Math.floor(lm.config.layers / 2)]?.ffn;
    const hasBn = queryBn(c, lm) === true;
    let bpcRunningBn: number | null = null;
    if (hasBn) {
      bpcRunningBn = (await validationBpc(lm, data.validation, s)).bpc;
      const length = lm.config.contextLength;
      const windows = sampleWindows(data.train, s.calibrationWindows, length, createRandom(s.seed + 1));
      lm.recalibrateNorms({ tokens: windows, batch: s.calibrationWindows });
    }
    const usage = middle?.numExperts ? new ExpertUsage(middle.numExperts) : undefined;
    if (middle) middle.usage = usage;
    const { bpc, tokens } = await validationBpc(lm, data.validation, s);
    if (middle) middle.usage = undefined;
    const stats = usage?.stats();
    const row: LmRow = {
      benchmark: 'char-lm',
      ffn: c.ffn,
      n_experts: middle?.numExperts ?? 1,
      train_flops: perToken * tokensPerStep * history.steps,
      val_bpc: bpc,
      val_bpc_running_bn: bpcRunningBn,
      usage: stats ? stats.usage : null,
      unevenness: stats ? stats.unevenness : null,
      case: c.name,
      group: c.group,
      query_bn:
        c.ffn === 'peer'
          ? lm.config.peer.queryBatchNorm
          : c.ffn === 'pkm'
            ? lm.config.pkm.queryBatchNorm
            : null,
      flops_per_token: perToken,
      ffn_flops_per_token: trainingFlops(ffnTokenFlops(c.ffn, lm.config)),
      steps: history.steps,
      train_tokens: tokensPerStep * history.steps,
      final_train_loss_nats: mean(history.losses.slice(-Math.min(50, history.losses.length))),
      val_tokens: tokens,
      params: countParams(lm),
      wall_s: (performance.now() - start) / 1000,
    };
    s.log(
      `[char-lm] ${c.name}: val ${bpc.toFixed(4)} bpc` +
        (bpcRunningBn === null ? '' : ` (${bpcRunningBn.toFixed(4)} before BN recalibration)`) +
        (stats
          ? `, usage ${(stats.usage * 100).toFixed(1)}%, unevenness ${stats.unevenness.toFixed(3)}`
          : '') +
        `, ${row.wall_s.toFixed(0)} s`,
    );
    return row;
  } finally {
    trainer.dispose();
    lm.dispose();
  }
}

/** Mean validation cross-entropy in bits over non-overlapping windows of the held-out tail, 64 windows per pass. */
async function validationBpc(
  lm: CharTransformer,
  validation: Int32Array,
  s: RunSettings,
): Promise<{ bpc: number; tokens: number }> {
  const t = lm.config.contextLength;
  const windows = evaluationWindows(validation, t, s.evalWindows);
  const count = windows.length / (t + 1);
  let nats = 0;
  for (let w = 0; w < count; w += 64) {
    const batch = Math.min(64, count - w);
    const loss = lm.loss({ tokens: windows.subarray(w * (t + 1), (w + batch) * (t + 1)), batch });
    const [value = Number.NaN] = await loss.data();
    loss.dispose();
    nats += value * batch; // every window predicts t characters
  }
  return { bpc: natsToBits(nats / count), tokens: count * t };
}

/** Whether the case's middle FFN batch-norms its queries (null: the kind has no query network). */
function queryBn(c: LmCase, lm: CharTransformer): boolean | null {
  if (c.ffn === 'peer') return lm.config.peer.queryBatchNorm;
  if (c.ffn === 'pkm') return lm.config.pkm.queryBatchNorm;
  return null;
}

function countParams(lm: CharTransformer): number {
  const tfjs = lm.trainableVariables().reduce((sum, v) => sum + v.size, 0);
  const experts = lm.peerLayers().reduce((sum, l) => sum + 2 * l.numExperts * l.config.dModel, 0);
  return tfjs + experts;
}

function mean(values: Float32Array): number {
  return values.length === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0) / values.length;
}
