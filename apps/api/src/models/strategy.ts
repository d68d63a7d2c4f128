import { z } from '@hono/zod-openapi';

/** Forgetting controls a training job can switch on (DESIGN §2; `@peer/core` continual plugins). */
export const STRATEGY_PLUGINS = [
  'freeze-and-grow',
  'replay',
  'l2',
  'ewc',
  'online-ewc',
  'lwf',
  'class-prototypes',
] as const;

/**
 * How a job learns a stream without forgetting: the plugins to combine and their settings (each setting is
 * passed to the core plugin of the same name, which validates it). The default is the platform's recipe:
 * grow new sub-key rows for the stream with everything old frozen, plus a bounded replay sample.
 */
export const StrategySchema = z
  .object({
    plugins: z
      .array(z.enum(STRATEGY_PLUGINS))
      .max(STRATEGY_PLUGINS.length)
      .default(['freeze-and-grow', 'replay']),
    /** Per-plugin settings, keyed by plugin name (e.g. `{"replay":{"capacity":1000}}`). */
    settings: z.partialRecord(z.enum(STRATEGY_PLUGINS), z.record(z.string(), z.unknown())).default({}),
  })
  .strict()
  .openapi('Strategy');

export type Strategy = z.output<typeof StrategySchema>;
