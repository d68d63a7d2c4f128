/** The `error` object of an API error body (`{"error":{code,message,field,bound,value,...}}`). */
export interface ApiErrorPayload {
  readonly code: string;
  readonly message: string;
  readonly field?: string;
  readonly bound?: string;
  readonly value?: unknown;
  readonly [detail: string]: unknown;
}

/** The server answered with a non-2xx status; `code` is the API's machine-readable error code. */
export class PeerApiError extends Error {
  constructor(
    readonly status: number,
    readonly payload: ApiErrorPayload,
    readonly headers: Headers,
  ) {
    super(`${status} ${payload.code}: ${payload.message}`);
    this.name = 'PeerApiError';
  }

  get code(): string {
    return this.payload.code;
  }
}

/** The server could not be reached (refused, reset, DNS) or its answer was not the API's JSON. */
export class PeerConnectionError extends Error {
  constructor(
    readonly url: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'PeerConnectionError';
  }
}
