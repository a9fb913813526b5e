import { readFileSync } from 'node:fs';
import type { Env } from './app-config';

/**
 * A secret from `NAME` or from the file named by `NAME_FILE` (the container convention for
 * mounted secrets), read once at start. Both set is ambiguous, so it is a problem, as is a file
 * that cannot be read. One trailing line break is dropped: `echo secret > file` adds it, and no
 * password ends with one. Anything else, surrounding spaces included, is kept as written.
 */
export function secretFromEnv(env: Env, name: string, problems: string[]): string {
  const fileVariable = `${name}_FILE`;
  const path = env[fileVariable]?.trim() ?? '';
  if (path === '') return env[name] ?? '';
  if ((env[name] ?? '') !== '') {
    problems.push(`${fileVariable}: set either ${name} or ${fileVariable}, not both`);
    return '';
  }
  const content = fileFromEnv(fileVariable, path, problems);
  return content?.replace(/\r?\n$/, '') ?? '';
}

/** The text of the file a variable names, or undefined with the problem recorded. */
export function fileFromEnv(
  variable: string,
  path: string,
  problems: string[],
): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    problems.push(`${variable}: cannot read "${path}" (${code})`);
    return undefined;
  }
}
