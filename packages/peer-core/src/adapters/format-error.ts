import { PeerError } from '../errors/peer-error.js';

/** File formats @peer/core reads. */
export type FileFormat = 'safetensors' | 'peft' | 'idx';

/**
 * A file that breaks its format's rules: names the format, a stable `reason` (e.g. `header_too_large`,
 * `invalid_offset`, `duplicate_name`) and, where one is at fault, the tensor or field.
 */
export class PeerFormatError extends PeerError {
  readonly format: FileFormat;
  readonly reason: string;

  constructor(format: FileFormat, reason: string, message: string, options?: { cause?: unknown }) {
    super('invalid_format', `${format}: ${message}`, options);
    this.format = format;
    this.reason = reason;
  }
}
