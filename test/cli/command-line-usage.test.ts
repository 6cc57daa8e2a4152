import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const honnx = fileURLToPath(new URL('../../bin/honnx.mjs', import.meta.url));
const run = promisify(execFile);

/** Runs the honnx command as a user would; its exit code, stdout and stderr, whatever the code. */
async function runHonnx(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [honnx, ...args], { encoding: 'utf8', timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

const STACK_FRAME = /^\s+at /m;

describe('the honnx command line', () => {
  it.each([
    ['serve', 'honnx serve [--port N]'],
    ['build', 'honnx build [--target workers|node]'],
    ['models', 'honnx models pull'],
    ['bench', 'honnx bench'],
    ['mirror', 'honnx mirror'],
  ])('%s --help prints that command\'s usage and exits 0', async (command, usage) => {
    const { code, stdout, stderr } = await runHonnx([command, '--help']);
    expect(code).toBe(0);
    expect(stdout).toContain(usage);
    expect(stderr).not.toMatch(STACK_FRAME);
  });

  it.each(['serve', 'build', 'bench', 'mirror serve', 'models pull', 'models synth'])(
    '%s with an unknown option is a usage error naming it, exit 2, with no stack trace',
    async (command) => {
      const { code, stdout, stderr } = await runHonnx([...command.split(' '), '--no-such-option']);
      expect(code).toBe(2);
      expect(stderr).toContain(`honnx ${command}: Unknown option '--no-such-option'`);
      expect(stderr).toContain('Usage:');
      expect(stderr).not.toMatch(STACK_FRAME);
      expect(stdout).toBe('');
    },
  );
});
