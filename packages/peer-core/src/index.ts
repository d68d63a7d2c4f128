export * from './config/peer-config.js';
export * from './errors/peer-error.js';
export * from './serialization/index.js';
