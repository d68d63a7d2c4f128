/** Base class of every error thrown by @peer/core; `code` is stable for programs, `message` for people. */
export class PeerError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(`@peer/core: ${message}`, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A config or argument outside its allowed range: names the field, the bound it broke and the value. */
export class PeerConfigError extends PeerError {
  readonly field: string;
  readonly bound: string;
  readonly value: unknown;

  constructor(field: string, bound: string, value: unknown, options?: { cause?: unknown }) {
    super('invalid_config', `'${field}' must be ${bound}, but got ${formatValue(value)}`, options);
    this.field = field;
    this.bound = bound;
    this.value = value;
  }
}

/** Tensor shapes that do not fit together (a programming error of the caller). */
export class PeerShapeError extends PeerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('shape_mismatch', message, options);
  }
}

/** The tensor backend cannot do what was asked (missing kernel, memory limit, ...). */
export class PeerBackendError extends PeerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('backend', message, options);
  }
}

function formatValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) {
    return String(value);
  }
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}
