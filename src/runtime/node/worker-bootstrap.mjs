// The first module of every honnx worker thread. honnx runs from TypeScript sources through tsx, whose loader a
// worker thread does not inherit from the thread that started it, so the thread registers it before importing
// its entry (src/runtime/node/worker-entry.ts).
import { workerData } from 'node:worker_threads';

if (workerData.entry.endsWith('.ts')) {
  const { register } = await import('tsx/esm/api');
  register();
}
await import(workerData.entry);
