import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ensureKafkaJars } from '../../../scripts/kafka/local-kafka';

const run = promisify(execFile);
const SOURCE = join(__dirname, 'PlanProducer.java');

/** The codecs of the Java client's `compression.type`. */
export type JavaCompression = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';

/** One line of a plan; `producer` names which of the open producers it is for. */
export type PlanStep =
  | { step: 'producer'; producer: string; compression: JavaCompression; transactionalId?: string }
  | { step: 'begin' | 'commit' | 'abort' | 'wait' | 'close'; producer: string }
  | {
      step: 'send';
      producer: string;
      topic: string;
      partition: number;
      key: string;
      value: string;
    };

function planLine(step: PlanStep): string {
  const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
  switch (step.step) {
    case 'producer':
      return ['producer', step.producer, step.compression, step.transactionalId ?? '-'].join('\t');
    case 'send':
      return [
        'send',
        step.producer,
        step.topic,
        String(step.partition),
        b64(step.key),
        b64(step.value),
      ].join('\t');
    default:
      return [step.step, step.producer].join('\t');
  }
}

/**
 * PlanProducer.java compiled with `javac` against the official Java client (kafka-clients from
 * the broker jars scripts/kafka fetches), run with `java -cp` once per plan.
 */
export class JavaPlanProducer {
  private constructor(
    private readonly dir: string,
    private readonly classpath: string,
  ) {}

  static async compile(): Promise<JavaPlanProducer> {
    const { libsDir } = await ensureKafkaJars(() => undefined);
    const dir = await mkdtemp(join(tmpdir(), 'cms-sync-java-producer-'));
    const classpath = [dir, join(libsDir, '*')].join(':');
    await run('javac', ['-d', dir, '-cp', join(libsDir, '*'), SOURCE]);
    return new JavaPlanProducer(dir, classpath);
  }

  /** Runs the plan to its end against `brokers`; rejects with the JVM's output if a step fails. */
  async run(brokers: string, steps: readonly PlanStep[]): Promise<string> {
    const planFile = join(this.dir, `plan-${Date.now()}.tsv`);
    await writeFile(planFile, `${steps.map(planLine).join('\n')}\n`);
    const { stdout } = await run(
      'java',
      ['-Xmx256m', '-cp', this.classpath, 'PlanProducer', brokers, planFile],
      { timeout: 120_000, maxBuffer: 16 * 1024 * 1024 },
    );
    return stdout;
  }

  async dispose(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}
