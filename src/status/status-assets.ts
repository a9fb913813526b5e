import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Injectable } from '@nestjs/common';
import { STATUS_PAGE_CSS } from './status-page.css';
import { runStatusPage } from './status-page.client';
import type { StatusPageAssets } from './status-page.html';
import { STATUS_VIEWS } from './status-view';

/** How often the page polls `GET /status`. */
export const POLL_INTERVAL_MS = 3000;

export interface StaticAsset {
  readonly body: Buffer;
  readonly contentType: string;
}

const uplotFile = (name: string) => readFileSync(require.resolve(`uplot/dist/${name}`));

/** The page's script: the client function and the views it calls, from their compiled source. */
function pageScript(): string {
  const tables = Object.entries(STATUS_VIEWS.tables)
    .map(([name, view]) => `${JSON.stringify(name)}: ${view.toString()}`)
    .join(',\n');
  const views = `{ tables: {\n${tables}\n}, notes: ${STATUS_VIEWS.notes.toString()} }`;
  return `'use strict';\n(${runStatusPage.toString()})(${views}, ${POLL_INTERVAL_MS});\n`;
}

/**
 * The files the page loads, all served by the service itself (operators' networks are closed
 * to CDNs): uPlot from node_modules, and the page's own script and styles. Read once at start;
 * each name carries a hash of its content, so browsers may keep them for good.
 */
@Injectable()
export class StatusAssets {
  private readonly byName = new Map<string, StaticAsset>();
  readonly page: StatusPageAssets;

  constructor() {
    const css = 'text/css; charset=utf-8';
    const js = 'text/javascript; charset=utf-8';
    const uplotCss = this.add('uPlot', 'css', uplotFile('uPlot.min.css'), css);
    const pageCss = this.add('status-page', 'css', Buffer.from(STATUS_PAGE_CSS), css);
    const uplotJs = this.add('uPlot', 'js', uplotFile('uPlot.iife.min.js'), js);
    const pageJs = this.add('status-page', 'js', Buffer.from(pageScript()), js);
    this.page = { stylesheets: [uplotCss, pageCss], scripts: [uplotJs, pageJs] };
  }

  /** The asset of that file name (`assets/<name>`), or undefined. */
  get(name: string): StaticAsset | undefined {
    return this.byName.get(name);
  }

  private add(base: string, extension: string, body: Buffer, contentType: string): string {
    const hash = createHash('sha256').update(body).digest('hex').slice(0, 12);
    const name = `${base}.${hash}.${extension}`;
    this.byName.set(name, { body, contentType });
    return `assets/${name}`;
  }
}
