import {
  type ContinualPlugin,
  EwcPlugin,
  FreezeAndGrowPlugin,
  L2SpPlugin,
  LwfPlugin,
  PeerConfigError,
  ReplayPlugin,
} from '@peer/core';
import { ApiError } from '../http/api-error.js';
import type { Strategy } from '../models/strategy.js';

/** What the plugins of a job are built with besides the strategy's own settings. */
export interface PluginOptions {
  /** Sub-key rows freeze-and-grow adds (the request's `rows` wins over the strategy's setting). */
  readonly rows: number;
  readonly seed: number;
}

/**
 * The core plugins of a strategy, in the strategy's order. Each plugin validates its own settings, so a bad
 * setting is a `PeerConfigError` here (see {@link checkStrategy} for the API's 422). Constructing plugins
 * allocates no tensors: this runs on the request path too.
 */
export function strategyPlugins(strategy: Strategy, options: PluginOptions): ContinualPlugin[] {
  return strategy.plugins.map((name): ContinualPlugin => {
    const settings = { ...(strategy.settings[name] ?? {}) };
    switch (name) {
      case 'freeze-and-grow':
        return new FreezeAndGrowPlugin({ seed: options.seed, ...settings, rows: options.rows });
      case 'replay':
        return new ReplayPlugin({ seed: options.seed, ...settings });
      case 'l2':
        return new L2SpPlugin(settings);
      case 'ewc':
        return new EwcPlugin({ seed: options.seed, ...settings, online: false });
      case 'online-ewc':
        return new EwcPlugin({ seed: options.seed, ...settings, online: true });
      default:
        return new LwfPlugin(settings);
    }
  });
}

/** Validates a strategy's settings on the request path: a bad one is a 422 naming `strategy.settings.<plugin>.<field>`. */
export function checkStrategy(strategy: Strategy, options: PluginOptions): void {
  for (const name of strategy.plugins) {
    try {
      strategyPlugins({ plugins: [name], settings: strategy.settings }, options);
    } catch (error) {
      if (error instanceof PeerConfigError) {
        throw ApiError.invalidField(`strategy.settings.${name}.${error.field}`, error.bound, error.value);
      }
      throw error;
    }
  }
  if (new Set(strategy.plugins).size !== strategy.plugins.length) {
    throw ApiError.invalidField('strategy.plugins', 'a list without repeats', strategy.plugins);
  }
}
