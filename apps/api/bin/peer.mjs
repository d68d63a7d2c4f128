#!/usr/bin/env node
// The `peer` CLI. The workspace ships TypeScript sources (no build step), so the bin registers tsx's
// loader first and then imports the real entry point.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
