// Run under a pseudo-terminal by progress-reporter.test.ts: a pull's progress written to this process's stderr.
import { createProgressReporter } from '../../src/models/hub/progress.ts';

process.stdout.write(`is a terminal: ${process.stderr.isTTY === true}\n`);
let now = 0;
const reporter = createProgressReporter(process.stderr, () => now);
const path = 'onnx/some/deeply/nested/folder/of/the/repository/model_quantized_int8.onnx';
reporter.begin({ name: 'org/model', commit: 'b'.repeat(40), files: [{ path, size: 10_000_000 }], heldBytes: 0 });
for (let step = 1; step <= 10; step++) {
  now += 200;
  reporter.progress(path, step * 1_000_000);
}
reporter.fileDone({ path, size: 10_000_000, fetched: 10_000_000, resumedFrom: 0 });
reporter.end();
