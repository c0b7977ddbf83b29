/**
 * Captures the `process.emitWarning` calls made while a test expects them, so that they are
 * asserted instead of printed (a clean test run prints no DContextWarning).
 */
import { vi } from 'vitest';

/** A warning as emitted: its message and its code. */
export interface CapturedWarning {
  readonly message: string;
  readonly code: string | undefined;
}

/** Runs `fn` (sync or async) with warnings captured, and returns them with its result. */
export async function withCapturedWarnings<R>(
  fn: () => R | Promise<R>,
): Promise<{ result: R; warnings: CapturedWarning[] }> {
  const warnings: CapturedWarning[] = [];
  const spy = vi.spyOn(process, 'emitWarning').mockImplementation(((
    warning: string | Error,
    options?: { code?: string } | string,
  ) => {
    const message = typeof warning === 'string' ? warning : warning.message;
    const code = typeof options === 'object' ? options.code : undefined;
    warnings.push({ message, code });
  }) as typeof process.emitWarning);
  try {
    const result = await fn();
    return { result, warnings };
  } finally {
    spy.mockRestore();
  }
}
