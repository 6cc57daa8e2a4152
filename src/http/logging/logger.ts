/** A log line's level, or `silent` to write none. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent'];

/** The fields of one log line. */
export type LogFields = Record<string, unknown>;

/** Writes one JSON object per line: `time`, `level`, `event`, then the fields. */
export interface Logger {
  readonly level: LogLevel;
  enabled(level: Exclude<LogLevel, 'silent'>): boolean;
  debug(event: string, fields?: LogFields): void;
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
}

/** The least level a logger writes, and where its lines go. */
export interface LoggerOptions {
  level?: LogLevel;
  /** Where a finished line goes; stdout (console.log) for debug and info, stderr (console.error) for the rest. */
  write?: (line: string, level: Exclude<LogLevel, 'silent'>) => void;
}

const writeToConsole = (line: string, level: Exclude<LogLevel, 'silent'>) => (level === 'warn' || level === 'error' ? console.error(line) : console.log(line));

/** Runtime-neutral: on Node the lines go to stdout/stderr, on Workers to the Workers log, which reads JSON lines as fields. */
export function createLogger({ level = 'info', write = writeToConsole }: LoggerOptions = {}): Logger {
  const threshold = LOG_LEVELS.indexOf(level);
  const enabled = (candidate: Exclude<LogLevel, 'silent'>) => LOG_LEVELS.indexOf(candidate) >= threshold;
  const log = (candidate: Exclude<LogLevel, 'silent'>) => (event: string, fields: LogFields = {}) => {
    if (!enabled(candidate)) return;
    write(JSON.stringify({ time: new Date().toISOString(), level: candidate, event, ...fields }), candidate);
  };
  return { level, enabled, debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

/** What an error may say in a log: its message and stack, never the objects hanging off it. */
export function describeError(error: unknown): LogFields {
  if (error instanceof Error) return { error: error.message, stack: error.stack };
  return { error: String(error) };
}
