/**
 * The one place tests, the test scripts and the fault suite take the broker address from:
 * TEST_KAFKA_BROKERS (a comma list, as KAFKA_BROKERS), else the broker `npm run services:up`
 * starts. Pointing it elsewhere runs the same tests against another broker, e.g. the 3.9
 * compatibility run (`npm run test:kafka-compat`) or a private broker while the shared one is busy.
 */
export const DEFAULT_TEST_BROKERS = '127.0.0.1:9092';

export function testBrokers(env: NodeJS.ProcessEnv = process.env): string {
  return env.TEST_KAFKA_BROKERS?.trim() || DEFAULT_TEST_BROKERS;
}

export const TEST_BROKERS = testBrokers();
