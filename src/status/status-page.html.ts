import { escapeHtml } from './html-escape';
import type { StatusSnapshot } from './status-snapshot';
import type { Rows, StatusViews, TableName } from './status-view';

export interface StatusPageAssets {
  readonly scripts: readonly string[];
  readonly stylesheets: readonly string[];
}

/** In page order; the wide ones span the whole width, the others share a row. */
const TABLES: readonly {
  name: TableName;
  title: string;
  headers: readonly string[];
  wide: boolean;
}[] = [
  {
    name: 'dependencies',
    title: 'Dependencies',
    headers: ['dependency', 'state', 'details'],
    wide: false,
  },
  {
    name: 'partitions',
    title: 'Partitions',
    headers: ['topic', 'partition', 'committed', 'high watermark', 'lag', 'owned here'],
    wide: true,
  },
  {
    name: 'group',
    title: 'Group members',
    headers: ['member', 'client id', 'host', 'partitions'],
    wide: true,
  },
  {
    name: 'deadLetters',
    title: 'Last dead letters',
    headers: ['time', 'topic/partition/offset', 'error type', 'error message', 'state'],
    wide: true,
  },
];

/** Nested configuration as `path = value` rows, arrays and nulls as JSON. */
export function configRows(config: unknown, path = ''): Rows {
  if (config !== null && typeof config === 'object' && !Array.isArray(config)) {
    return Object.entries(config).flatMap(([key, value]) =>
      configRows(value, path === '' ? key : `${path}.${key}`),
    );
  }
  return [[path, typeof config === 'string' ? config : (JSON.stringify(config) ?? '')]];
}

function table(id: string, headers: readonly string[], rows: Rows): string {
  const head = headers.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const body = rows
    .map((cells) => `<tr>${cells.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`)
    .join('\n');
  return `<table id="${escapeHtml(id)}"><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

/**
 * The whole page, filled from a first snapshot so that it reads without its script too (curl,
 * a text browser); the script then keeps it current. Every value goes through escapeHtml.
 */
export function renderStatusPage(
  snapshot: StatusSnapshot,
  views: StatusViews,
  assets: StatusPageAssets,
): string {
  const notes = views.notes(snapshot);
  const sections = TABLES.map(
    ({ name, title, headers, wide }) => `<section${wide ? ' class="wide"' : ''}>
<h2>${escapeHtml(title)}</h2>
${table(name, headers, views.tables[name](snapshot))}
<p class="note" id="${name}-note">${escapeHtml(notes[name] ?? '')}</p>
</section>`,
  ).join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>cms-sync · ${escapeHtml(snapshot.groupId)}</title>
<link rel="icon" href="data:,">
${assets.stylesheets.map((href) => `<link rel="stylesheet" href="${escapeHtml(href)}">`).join('\n')}
</head>
<body>
<header>
<h1>cms-sync <span class="group">group ${escapeHtml(snapshot.groupId)}</span></h1>
<p id="updated">snapshot of ${escapeHtml(snapshot.generatedAt)}</p>
</header>
<main>
<section>
<h2>Events per second, last 15 minutes</h2>
<div id="rate-chart" data-points="0"></div>
</section>
${sections}
<section class="wide">
<h2>Configuration in effect</h2>
<dl id="config">
${configRows(snapshot.configuration)
  .map(
    ([key = '', value = '']) =>
      `<div><dt>${escapeHtml(key)}</dt><dd>${escapeHtml(value)}</dd></div>`,
  )
  .join('\n')}
</dl>
<p class="note">secrets masked, as in the start-up line</p>
</section>
</main>
${assets.scripts.map((src) => `<script src="${escapeHtml(src)}"></script>`).join('\n')}
</body>
</html>
`;
}
