#!/usr/bin/env node
// The honnx command. Its source is TypeScript, loaded through tsx so a checkout needs no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
