import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JestSummary } from './jest-run';

export const RELIABILITY_REPORT = join(__dirname, '..', 'docs', 'reliability.md');

/**
 * docs/reliability.md has one generated section per writer: `npm run test:faults` writes the
 * fault table, `npm test` the hostile-input and codec results. Each replaces only its own
 * section, between markers, so neither run erases what the other measured.
 */
export function writeReportSection(name: string, markdown: string): void {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const block = `${start}\n\n${markdown.trim()}\n\n${end}`;
  const current = existsSync(RELIABILITY_REPORT) ? readFileSync(RELIABILITY_REPORT, 'utf8') : '';
  const from = current.indexOf(start);
  const to = current.indexOf(end);
  const next =
    from >= 0 && to > from
      ? `${current.slice(0, from)}${block}${current.slice(to + end.length)}`
      : current.startsWith('# ')
        ? `${current.trimEnd()}\n\n${block}\n`
        : `# Reliability\n\n${block}\n\n${current}`;
  writeFileSync(RELIABILITY_REPORT, next);
}

/** The integration files whose results the "hostile input and codecs" section lists. */
const INPUT_FILES: readonly { file: string; what: string }[] = [
  { file: 'test/poison.e2e-spec.ts', what: 'poison and hostile messages' },
  { file: 'test/dead-letters.e2e-spec.ts', what: 'dead-letter topics, keys and chunks' },
  { file: 'test/db-rejection.e2e-spec.ts', what: 'values the database refuses' },
  { file: 'test/java-producer.e2e-spec.ts', what: 'a Java producer: codecs and transactions' },
];

const STATUS: Record<string, string> = { passed: 'passed', failed: '**FAILED**' };

/** The per-test outcome of the input files in each sync mode, as one markdown section. */
export function inputResultsSection(byMode: ReadonlyMap<string, JestSummary>): string {
  const modes = [...byMode.keys()];
  const lines = [
    '## Hostile input, database rejections and codecs',
    '',
    `Written by \`npm test\` at the end of its last full run (${new Date().toISOString()}), one column per sync mode. Each poison test sends one kind of message, then a valid event on the same partition: the kind gets its outcome (dead-lettered once with the original key, value and \`x-*\` headers, or applied), the valid one is applied, nothing is retried and no error-level line is logged.`,
  ];
  for (const { file, what } of INPUT_FILES) {
    const results = new Map<string, Map<string, string>>();
    for (const [mode, summary] of byMode) {
      const fileResult = summary.testResults?.find((result) => result.name.endsWith(file));
      for (const test of fileResult?.assertionResults ?? []) {
        const row = results.get(test.title) ?? new Map<string, string>();
        row.set(mode, STATUS[test.status] ?? test.status);
        results.set(test.title, row);
      }
    }
    lines.push('', `### ${what} (\`${file}\`, ${results.size} tests)`, '');
    lines.push(
      `| test | ${modes.join(' | ')} |`,
      `| --- | ${modes.map(() => '---').join(' | ')} |`,
    );
    for (const [title, row] of results) {
      const cells = modes.map((mode) => row.get(mode) ?? 'not run');
      lines.push(`| ${title.replace(/\|/g, '\\|')} | ${cells.join(' | ')} |`);
    }
  }
  return lines.join('\n');
}
