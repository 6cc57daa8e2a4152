import { describe } from 'vitest';
import { allTaskCases } from '../tasks/run-conformance.ts';
import { createWorkerdContext } from './workerd-context.ts';

// The same task cases as test/tasks/onnxruntime-*.test.ts, run inside workerd on the engine a built worker uses.
describe('task conformance on onnxruntime-web inside workerd', () => {
  const context = createWorkerdContext();
  for (const cases of allTaskCases) cases(context);
});
