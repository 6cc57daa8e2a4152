/**
 * Full-size agreement with llama.cpp: writes `<preset>` q4 into .cache/synth/<preset> and its Q4_0 GGUF beside it,
 * then compares next-token top-1 over 256 teacher-forced positions (honnx's session vs node-llama-cpp).
 *   node bin/run-ts.mjs bench/slm-agreement/run.ts [qwen3-0.6b|llama-3.2-1b]
 */
import { resolve } from 'node:path';
import { applyOverrides } from '../../src/models/synth/synth-presets.ts';
import { findPreset, synthesizeModel } from '../../src/models/synth/synthesize-model.ts';
import { writeGgufModel } from '../../src/models/synth/write-gguf-model.ts';
import { drawTokenIds, measureTeacherForcedAgreement, openLlamaCpp } from '../../test/support/llama-cpp-agreement.ts';

const presetName = process.argv[2] ?? 'qwen3-0.6b';
const preset = findPreset(presetName);
const { shape } = applyOverrides(preset, {});
const folder = resolve(import.meta.dirname, '../../.cache/synth', presetName);
const ggufPath = `${folder}-q4_0.gguf`;
let started = performance.now();
const written = await synthesizeModel({ preset: presetName, outputFolder: folder, variant: 'q4' });
console.log(`${written.onnxFile}: ${(written.bytes / 1e6).toFixed(0)} MB in ${((performance.now() - started) / 1000).toFixed(1)} s`);
started = performance.now();
const ggufBytes = await writeGgufModel(ggufPath, { preset, shape, seed: 42 });
console.log(`${ggufPath}: ${(ggufBytes / 1e6).toFixed(0)} MB in ${((performance.now() - started) / 1000).toFixed(1)} s`);
const llama = await openLlamaCpp();
const agreement = await measureTeacherForcedAgreement({ folder, variant: 'q4', ggufPath, shape, ids: drawTokenIds(256, 120_000), llama, threads: 2 });
await llama.dispose();
console.log(`${presetName} q4, full size: teacher-forced top-1 agreement ${agreement.agreeing}/${agreement.positions}, ${agreement.notEchoes} not echoes of the input token`);
