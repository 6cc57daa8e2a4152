/** Whether the command line asks for a command's usage (`--help` or `-h` anywhere before a `--`). */
export function asksForHelp(args: readonly string[]): boolean {
  const end = args.indexOf('--');
  const options = end === -1 ? args : args.slice(0, end);
  return options.includes('--help') || options.includes('-h');
}

/**
 * The message of an argument error from node:util's parseArgs (an unknown option, a missing value), which a
 * command reports as a usage error with exit code 2 rather than a stack trace; undefined for any other error.
 */
export function readArgumentError(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return error instanceof Error && typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_') ? error.message : undefined;
}
