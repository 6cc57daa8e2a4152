import { describe, expect, it, vi } from 'vitest';
import { createBatchedLogWriter } from '../../src/runtime/node/batched-log-writer.ts';

function createStreams() {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, streams: { stdout: { write: (text: string) => stdout.push(text) }, stderr: { write: (text: string) => stderr.push(text) } } };
}

describe('batched log writer', () => {
  it('writes info lines together, in order, once the wait is over', async () => {
    const { stdout, streams } = createStreams();
    const writer = createBatchedLogWriter({ flushMilliseconds: 20, ...streams });
    writer.write('{"n":1}', 'info');
    writer.write('{"n":2}', 'debug');
    expect(stdout).toEqual([]);
    await vi.waitFor(() => expect(stdout).toEqual(['{"n":1}\n{"n":2}\n']));
    writer.write('{"n":3}', 'info');
    await vi.waitFor(() => expect(stdout).toEqual(['{"n":1}\n{"n":2}\n', '{"n":3}\n']));
  });

  it('writes warnings and errors at once, to stderr', () => {
    const { stdout, stderr, streams } = createStreams();
    const writer = createBatchedLogWriter({ flushMilliseconds: 60_000, ...streams });
    writer.write('{"level":"warn"}', 'warn');
    writer.write('{"level":"error"}', 'error');
    expect(stderr).toEqual(['{"level":"warn"}\n', '{"level":"error"}\n']);
    expect(stdout).toEqual([]);
  });

  it('writes when enough is waiting, and everything on flush', () => {
    const { stdout, streams } = createStreams();
    const writer = createBatchedLogWriter({ flushMilliseconds: 60_000, maxPendingCharacters: 10, ...streams });
    writer.write('12345', 'info');
    expect(stdout).toEqual([]);
    writer.write('67890', 'info');
    expect(stdout).toEqual(['12345\n67890\n']);
    writer.write('last', 'info');
    writer.flush();
    writer.flush();
    expect(stdout).toEqual(['12345\n67890\n', 'last\n']);
  });
});
