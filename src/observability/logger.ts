// Structured logs with pino, and the SDK's Logger routed to it, so the worker's own lines, the
// SDK's, the activities' (`log` from @temporalio/activity) and the workflows' (the default sink)
// all come out the same way. Activity and workflow lines carry workflowId, step and account
// (added by the interceptors). Never pass request bodies or tokens as attributes.
import pino, { type DestinationStream, type Logger as Pino } from 'pino';
import type { LogLevel, LogMetadata, Logger } from '@temporalio/common';
import { redactText, redactValue } from '../secrets/redact';
import { visible, visibleJson } from '../shared/terminal-text';
import type { ObservabilityConfig } from './config';

/**
 * `text`: one readable line per entry, for a person at a terminal; `json` is pino's own. Either
 * way, control characters in logged values (outside text: error descriptions, names) are escaped,
 * so a line can neither drive the terminal that shows it nor pass for two lines.
 */
function textDestination(out: NodeJS.WritableStream): DestinationStream {
  return {
    write(line: string) {
      const { time, level, msg, ...rest } = JSON.parse(line);
      delete rest.pid;
      const attrs = Object.keys(rest).length ? ` ${visibleJson(JSON.stringify(rest))}` : '';
      out.write(
        `${new Date(time).toISOString()} ${String(pino.levels.labels[level]).toUpperCase()} ${visible(msg ?? '')}${attrs}\n`,
      );
    },
  };
}

/** pino's JSON lines with C1 and format characters escaped too (JSON escapes only C0). */
function jsonDestination(out: NodeJS.WritableStream): DestinationStream {
  return {
    write(line: string) {
      out.write(visibleJson(line));
    },
  };
}

/** Errors as plain data (their message and stack are not enumerable), so they can be redacted. */
function plain(value: unknown): unknown {
  if (!(value instanceof Error)) return value;
  return {
    ...Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)])),
    type: value.name,
    message: value.message,
    stack: value.stack,
    ...(value.cause !== undefined ? { cause: plain(value.cause) } : {}),
  };
}

/** Every line passes through the redaction helper: a second line of defence for secrets. */
function redacted(arg: unknown): unknown {
  if (typeof arg === 'string') return redactText(arg);
  if (arg instanceof Error) return redactValue(plain(arg));
  if (arg && typeof arg === 'object')
    return redactValue(Object.fromEntries(Object.entries(arg).map(([k, v]) => [k, plain(v)])));
  return arg;
}

export function createLogger(
  config: Pick<ObservabilityConfig, 'LOG_LEVEL' | 'LOG_FORMAT'>,
  out: NodeJS.WritableStream = process.stdout,
): Pino {
  const options = {
    level: config.LOG_LEVEL,
    base: { pid: process.pid },
    hooks: {
      logMethod(this: Pino, args: Parameters<Pino['info']>, method: Pino['info']) {
        return method.apply(this, args.map(redacted) as Parameters<Pino['info']>);
      },
    },
  };
  return config.LOG_FORMAT === 'text'
    ? pino(options, textDestination(out))
    : pino(options, jsonDestination(out));
}

const LEVELS: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/** The SDK's Logger interface on top of pino: Runtime.install({ logger: new SdkLogger(pino) }). */
export class SdkLogger implements Logger {
  constructor(private readonly pino: Pino) {}

  log(level: LogLevel, message: string, meta: LogMetadata = {}): void {
    // The SDK logs this before the activity's headers are read; the activity interceptors log it
    // again with the onboarding's step (activity-interceptors.ts).
    if (message === 'Activity started' && meta.sdkComponent === 'worker') return;
    this.pino[LEVELS[level]](meta as object, message);
  }
  trace(message: string, meta?: LogMetadata): void {
    this.log('TRACE', message, meta);
  }
  debug(message: string, meta?: LogMetadata): void {
    this.log('DEBUG', message, meta);
  }
  info(message: string, meta?: LogMetadata): void {
    this.log('INFO', message, meta);
  }
  warn(message: string, meta?: LogMetadata): void {
    this.log('WARN', message, meta);
  }
  error(message: string, meta?: LogMetadata): void {
    this.log('ERROR', message, meta);
  }
}
