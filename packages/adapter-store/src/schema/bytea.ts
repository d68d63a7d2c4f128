import { customType } from 'drizzle-orm/pg-core';

/**
 * `bytea` column (drizzle has no built-in one). Drivers return `Uint8Array` (PGlite) or `Buffer`
 * (postgres.js, a `Uint8Array` subclass); both are handed out as plain `Uint8Array` views.
 * Bulk block data does not go through this type: it uses binary COPY (see `drivers/`).
 */
export const bytea = customType<{ data: Uint8Array; driverData: Uint8Array }>({
  dataType() {
    return 'bytea';
  },
  toDriver(value) {
    return value;
  },
  fromDriver(value) {
    return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  },
});
