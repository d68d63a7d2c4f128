// The training thread: runs one `runTrainTask` at a time for its parent (a `TrainThread`), reports progress,
// honours cancel messages between steps, and sends results back with their large buffers transferred.
import { parentPort } from 'node:worker_threads';
import { initBackend } from '@peer/core/backend';
import { taskErrorData } from './task-errors.js';
import { runTrainTask } from './train-task.js';
import type { FromThread, ToThread, TrainTaskOutput } from './train-task-types.js';
import { ownedBuffers } from './transfer.js';

const port = parentPort;
if (!port) throw new Error('train-worker must run in a worker thread');

// Backend start-up (wasm compile, kernels) costs seconds: once per thread, which then serves many jobs.
const backend = initBackend();
const controllers = new Map<number, AbortController>();
const send = (message: FromThread, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

port.on('message', (message: ToThread) => {
  if (message.type === 'cancel') {
    controllers.get(message.id)?.abort();
    return;
  }
  const { id, input } = message;
  const controller = new AbortController();
  controllers.set(id, controller);
  backend
    .then(() =>
      runTrainTask(input, {
        signal: controller.signal,
        onProgress: (progress) => send({ type: 'progress', id, progress }),
      }),
    )
    .then(
      (output) => send({ type: 'result', id, output }, transferables(output)),
      (error: unknown) => send({ type: 'error', id, error: taskErrorData(error) }),
    )
    .finally(() => controllers.delete(id));
});

backend.then(
  () => send({ type: 'ready' }),
  (error: unknown) => send({ type: 'error', id: 0, error: taskErrorData(error) }),
);

/** The output's own buffers (each once; views into a larger buffer are copied by the clone instead). */
function transferables(output: TrainTaskOutput): ArrayBuffer[] {
  const views: ArrayBufferView[] =
    output.kind === 'train'
      ? [
          ...output.changed.map((b) => b.bytes),
          ...output.regularization.flatMap((r) =>
            [...r.state.anchors, ...r.state.fisher].map((b) => b.bytes),
          ),
        ]
      : [output.a, output.b, output.retrievalKey];
  return ownedBuffers(views);
}
