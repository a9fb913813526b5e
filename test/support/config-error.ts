import { parseConfig, type Env } from '../../src/config/app-config';
import { ConfigError } from '../../src/config/config.error';

/** Runs parseConfig and returns the ConfigError it must throw. */
export function configError(env: Env): ConfigError {
  try {
    parseConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError, but the configuration was accepted');
}
