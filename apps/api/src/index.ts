/**
 * @peer/api — the HTTP API of the PEER platform (Hono): NDJSON streams that grow the expert pool, training
 * jobs, predictions with adapters chosen by name or retrieved by input, versions and aliases.
 */

export { API_VERSION, createApp } from './app.js';
export { bootstrapAdminKey, generateApiKey, hashApiKey, issueApiKey } from './auth/api-keys.js';
export { type ApiEnv, readApiEnv } from './env.js';
export { ApiError, type ApiErrorCode } from './http/api-error.js';
export { openApiStore } from './open-api-store.js';
export { type RunningServer, startServer } from './server.js';
export { createServices, type Services } from './services.js';
