import { type ApiErrorPayload, PeerApiError, PeerConnectionError } from './client-error.js';

/** Where the server is and which key to send. */
export interface PeerClientOptions {
  /** Base URL of the server, e.g. `http://127.0.0.1:8787`. */
  readonly url: string;
  /** API key (`peer_…`), sent as `Authorization: Bearer`. */
  readonly key?: string;
  /** Injected for tests; the global `fetch` otherwise. */
  readonly fetch?: typeof fetch;
}

/** One request: a JSON body, or a raw body (a stream needs `contentLength` to let the server 413 early). */
export interface RequestOptions {
  readonly json?: unknown;
  readonly body?: BodyInit | ReadableStream<Uint8Array>;
  readonly headers?: Record<string, string>;
  readonly signal?: AbortSignal;
}

/** A model as `GET /v1/models` lists it (the fields the CLI uses). */
export interface ModelSummary {
  readonly id: string;
  readonly name: string;
  readonly headVersionId: string | null;
  readonly versionCount: number;
  readonly [field: string]: unknown;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A small HTTP client of the PEER API (what the `peer` CLI, the demo and the end-to-end tests use). Non-2xx
 * answers become `PeerApiError` carrying the API's error code; an unreachable server is `PeerConnectionError`.
 */
export class PeerClient {
  readonly url: string;
  private readonly key: string | undefined;
  private readonly fetchImpl: typeof fetch;

  constructor(options: PeerClientOptions) {
    this.url = options.url.replace(/\/+$/, '');
    this.key = options.key;
    this.fetchImpl = options.fetch ?? fetch;
  }

  /** Sends a request and returns the response whatever its status (the body is not read). */
  async send(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    if (this.key !== undefined) headers.authorization = `Bearer ${this.key}`;
    let body = options.body;
    if (options.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.json);
    }
    const init: RequestInit & { duplex?: 'half' } = { method, headers };
    if (body !== undefined) init.body = body as BodyInit;
    // undici needs `duplex: 'half'` to send a stream body (the request is written while the answer waits).
    if (body instanceof ReadableStream) init.duplex = 'half';
    if (options.signal) init.signal = options.signal;
    try {
      return await this.fetchImpl(`${this.url}${path}`, init);
    } catch (error) {
      const reason = causeMessage(error);
      throw new PeerConnectionError(
        this.url,
        `cannot reach ${this.url} (${reason}); is \`peer serve\` running?`,
        {
          cause: error,
        },
      );
    }
  }

  /** Sends a request and parses the JSON answer; throws `PeerApiError` for a non-2xx status. */
  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const response = await this.send(method, path, options);
    return readJson<T>(this.url, response);
  }

  get<T>(path: string, options?: RequestOptions): Promise<T> {
    return this.request<T>('GET', path, options);
  }

  post<T>(path: string, json: unknown, options: RequestOptions = {}): Promise<T> {
    return this.request<T>('POST', path, { ...options, json });
  }

  put<T>(path: string, json: unknown, options: RequestOptions = {}): Promise<T> {
    return this.request<T>('PUT', path, { ...options, json });
  }

  /**
   * A model named by id or by name. Names are resolved through `GET /v1/models` (the caller's tenant only);
   * an unknown name is the same 404 the server gives for an unknown id.
   */
  async resolveModel(ref: string): Promise<ModelSummary> {
    if (UUID.test(ref)) return this.get<ModelSummary>(`/v1/models/${ref}`);
    const { models } = await this.get<{ models: ModelSummary[] }>('/v1/models');
    const found = models.find((m) => m.name === ref);
    if (!found) {
      throw new PeerApiError(
        404,
        { code: 'not_found', message: `model ${JSON.stringify(ref)} does not exist` },
        new Headers(),
      );
    }
    return found;
  }
}

/** Parses a response as JSON, turning an error status into `PeerApiError`. */
export async function readJson<T>(url: string, response: Response): Promise<T> {
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text.length > 0 ? JSON.parse(text) : undefined;
  } catch (error) {
    throw new PeerConnectionError(url, `${response.status} from ${url} is not JSON: ${text.slice(0, 200)}`, {
      cause: error,
    });
  }
  if (!response.ok) {
    const payload = (parsed as { error?: ApiErrorPayload } | undefined)?.error ?? {
      code: `http_${response.status}`,
      message: text.slice(0, 200) || response.statusText,
    };
    throw new PeerApiError(response.status, payload, response.headers);
  }
  return parsed as T;
}

function causeMessage(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}
