import { parseConfig, type AppConfig } from '../src/config/app-config';
import { ConfigError } from '../src/config/config.error';

/** A command-line mistake: answered with the usage text and exit code 2. */
export class UsageError extends Error {}

/**
 * Runs an operator script: parses its flags and the configuration once, answers a usage error
 * with exit code 2 and bad configuration with 78 (the service's own code), then exits with what
 * `body` returns; anything unexpected exits 1 with one line.
 */
export function runCli<Options>(
  name: string,
  usage: string,
  parseOptions: (argv: readonly string[]) => Options,
  body: (config: AppConfig, options: Options) => Promise<number>,
): void {
  const main = async (): Promise<number> => {
    let options: Options;
    let config: AppConfig;
    try {
      options = parseOptions(process.argv.slice(2));
      config = parseConfig(process.env);
    } catch (err) {
      if (err instanceof UsageError) {
        console.error(`${name}: ${err.message}\n${usage}`);
        return 2;
      }
      if (err instanceof ConfigError) {
        console.error(err.message);
        return 78;
      }
      throw err;
    }
    return body(config, options);
  };
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(`${name} failed: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}
