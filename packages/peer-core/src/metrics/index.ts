/** Measurements of trained PEER models. */
export { ExpertUsage, type ExpertUsageStats, expertUsageStats } from './expert-usage.js';
