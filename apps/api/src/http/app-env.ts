import type { Principal } from '../auth/principal.js';
import type { Services } from '../services.js';

/** Hono's environment of every route: the request's authenticated principal and the shared services. */
export interface AppEnv {
  Variables: {
    principal: Principal;
    services: Services;
    requestId: string;
  };
}
