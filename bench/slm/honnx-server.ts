import { join } from 'node:path';
import { discoverFunctions } from '../../src/runtime/node/discover-functions.ts';
import { startNodeServer } from '../../src/runtime/node/node-server.ts';
import { announceReady } from '../servers/announce-ready.ts';

/*
 * honnx serving bench/slm/functions/slm.ts with its defaults for a generative function: one worker thread, its
 * session on every core, streams batched in the step loop. Models come from HONNX_MIRROR (the bench's .cache/slm).
 * Usage: honnx-server.ts <port>
 */
const functions = await discoverFunctions(join(import.meta.dirname, 'functions'));
const running = await startNodeServer({ functions, projectRoot: join(import.meta.dirname, '../..'), host: '127.0.0.1', port: Number(process.argv[2]) });
await running.ready;
announceReady(running.url);
