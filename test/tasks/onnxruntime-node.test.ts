import { enginesUnderTest } from '../support/engines.ts';
import { runTaskConformance } from './run-conformance.ts';

runTaskConformance(enginesUnderTest.find((engine) => engine.name === 'onnxruntime-node')!);
