/**
 * The dashboard's only way to the server: the public API with the operator's key. The key lives in
 * sessionStorage (gone when the tab closes) and is sent as `Authorization: Bearer`, so the page sees
 * exactly what that key's tenant may see.
 */

const KEY_ITEM = 'peer.apiKey';

/** The stored key, if any. */
export function loadKey() {
  return sessionStorage.getItem(KEY_ITEM) ?? undefined;
}

/** @param {string} key */
export function saveKey(key) {
  sessionStorage.setItem(KEY_ITEM, key);
}

export function clearKey() {
  sessionStorage.removeItem(KEY_ITEM);
}

/** An API call that answered with an error body (`{"error":{code,message,field,...}}`) or failed to connect. */
export class ApiRequestError extends Error {
  /**
   * @param {number} status HTTP status (0 when the server could not be reached)
   * @param {string} code the API's machine-readable code
   * @param {string} message
   * @param {Record<string, unknown>} [details]
   */
  constructor(status, code, message, details = {}) {
    super(message);
    this.name = 'ApiRequestError';
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

/**
 * Calls the API and returns the parsed JSON body.
 * @param {string} method
 * @param {string} path e.g. `/v1/models`
 * @param {{ json?: unknown, signal?: AbortSignal }} [options]
 */
export async function call(method, path, options = {}) {
  const response = await send(method, path, options);
  return response.status === 204 ? undefined : response.json();
}

/**
 * Sends a request with the key and returns the response once it is known to be a success; error bodies
 * become an {@link ApiRequestError}.
 * @param {string} method
 * @param {string} path
 * @param {{ json?: unknown, signal?: AbortSignal, headers?: Record<string, string> }} [options]
 * @returns {Promise<Response>}
 */
export async function send(method, path, options = {}) {
  const key = loadKey();
  if (!key) throw new ApiRequestError(401, 'unauthorized', 'enter an API key first');
  /** @type {Record<string, string>} */
  const headers = { authorization: `Bearer ${key}`, ...(options.headers ?? {}) };
  /** @type {RequestInit} */
  const init = { method, headers, signal: options.signal, cache: 'no-store' };
  if (options.json !== undefined) {
    headers['content-type'] = 'application/json';
    init.body = JSON.stringify(options.json);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') throw error;
    throw new ApiRequestError(0, 'network', `cannot reach the API (${error})`);
  }
  if (response.ok) return response;
  const body = await response.json().catch(() => undefined);
  const detail = body?.error ?? {};
  throw new ApiRequestError(
    response.status,
    detail.code ?? 'http_error',
    detail.message ?? `${method} ${path} answered ${response.status}`,
    detail,
  );
}

/** Lists that the API wraps in an object (`{models:[...]}`) or returns bare. */
export function listOf(body, field) {
  if (Array.isArray(body)) return body;
  const items = body?.[field];
  return Array.isArray(items) ? items : [];
}
