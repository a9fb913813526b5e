import { Writable } from 'node:stream';
import pino from 'pino';
import { LOGGER_OPTIONS } from './root-logger';

function capture(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString('utf8');
      done();
    },
  });
  const lines = () =>
    text
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { stream, lines };
}

describe('the logger options', () => {
  it('censor password-ish fields at any depth a log line uses, keeping empty ones empty', () => {
    const { stream, lines } = capture();
    const logger = pino(LOGGER_OPTIONS, stream);
    // Bad input: a careless line carrying secrets at several depths.
    logger.info(
      {
        password: 'top-secret',
        config: { kafka: { sasl: { username: 'cms', password: 'sasl-secret' } } },
        redis: { password: '' },
        req: { headers: { authorization: 'Bearer token-secret', host: 'x' } },
      },
      'careless',
    );
    const [line] = lines();
    expect(JSON.stringify(line)).not.toMatch(/top-secret|sasl-secret|token-secret/);
    expect(line).toMatchObject({
      level: 'info',
      msg: 'careless',
      password: '***',
      config: { kafka: { sasl: { username: 'cms', password: '***' } } },
      redis: { password: '' },
      req: { headers: { authorization: '***', host: 'x' } },
    });
  });
});
