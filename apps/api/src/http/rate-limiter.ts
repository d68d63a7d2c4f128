import { ApiError } from './api-error.js';

/**
 * Per-key token bucket: `ratePerSecond` tokens a second, bursts up to two seconds' worth. In memory per
 * replica (a shared limit would cost a database round trip per request, more than a predict itself).
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly burst: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly now: () => number = () => Date.now(),
  ) {
    this.burst = Math.max(1, ratePerSecond * 2);
  }

  /** Takes one token for `key` or throws 429 with `Retry-After` (whole seconds until a token is back). */
  take(key: string): void {
    const t = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: this.burst, at: t };
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((t - bucket.at) / 1000) * this.ratePerSecond);
    bucket.at = t;
    this.buckets.set(key, bucket);
    if (bucket.tokens < 1) {
      const retryAfter = Math.max(1, Math.ceil((1 - bucket.tokens) / this.ratePerSecond));
      throw new ApiError(
        429,
        'rate_limited',
        `rate limit of ${this.ratePerSecond} requests/s for this key exceeded`,
        { bound: `${this.ratePerSecond} requests/s`, retryAfterSeconds: retryAfter },
        { 'Retry-After': String(retryAfter) },
      );
    }
    bucket.tokens -= 1;
  }
}
