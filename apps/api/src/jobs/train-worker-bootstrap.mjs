// Entry of the training thread: worker threads start without the parent's loaders, so this plain-JS file
// registers tsx and then imports the TypeScript entry it was given (`new Worker(x.ts, { execArgv })` does not
// carry tsx into the thread).
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
