import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { type Admin, type Consumer, Kafka, logLevel } from 'kafkajs';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { ENTITY_KINDS } from '../src/domain/entity-kind';
import { orderEvent, productEvent } from './support/events';
import { baseUrl, request } from './support/service-http';
import { BROKERS, type RunningService, TestContext } from './support/test-context';
import { waitFor } from './support/wait-for';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
/** Not JSON, and JSON.parse quotes its start in the error message: markup, if not escaped. */
const HOSTILE_VALUE = '<img src=x onerror=alert(1)>';
const PAUSED_ORDERS = 5;

/** The status page's Partitions table as `topic/partition` → lag. */
async function pageLag(page: Page): Promise<Map<string, number>> {
  const rows = await page
    .locator('#partitions tbody tr')
    .evaluateAll((trs) =>
      trs.map((tr) => Array.from(tr.querySelectorAll('td'), (td) => td.textContent ?? '')),
    );
  return new Map(rows.map(([topic, partition, , , lag]) => [`${topic}/${partition}`, Number(lag)]));
}

/** The broker's own lag for the group, read with a fresh admin client. */
async function brokerLag(
  admin: Admin,
  groupId: string,
  topics: string[],
): Promise<Map<string, number>> {
  const lag = new Map<string, number>();
  const committed = await admin.fetchOffsets({ groupId, topics });
  for (const topic of topics) {
    const done = committed.find((c) => c.topic === topic)?.partitions ?? [];
    for (const { partition, high, low } of await admin.fetchTopicOffsets(topic)) {
      const offset = Number(done.find((c) => c.partition === partition)?.offset ?? -1);
      lag.set(`${topic}/${partition}`, Number(high) - (offset < 0 ? Number(low) : offset));
    }
  }
  return lag;
}

/** Every key of a JSON value, at any depth. */
function keysOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(keysOf);
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, v]) => [key, ...keysOf(v)]);
}

/**
 * The status page in Debian's chromium, driven by playwright-core, against the in-process
 * service consuming real topics: what the page shows is checked against the broker and against
 * messages sent while it is open.
 */
describe('status page (GET /) in a real browser', () => {
  const ctx = new TestContext();
  const kafka = new Kafka({
    clientId: `${ctx.id}-check`,
    brokers: [BROKERS],
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  const problems: string[] = [];
  let service: RunningService;
  let userDataDir: string;
  let browser: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    await ctx.setUp(3);
    await admin.connect();
    service = await ctx.startService();
    userDataDir = mkdtempSync(join(tmpdir(), 'cms-sync-chromium-'));
    browser = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1400, height: 1000 },
    });
    page = browser.pages()[0] ?? (await browser.newPage());
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  });

  afterAll(async () => {
    await browser?.close();
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
    await admin.disconnect();
    await ctx.tearDown();
  });

  it('loads without console errors, charts the stream, and shows a dead letter sent while it is open', async () => {
    // Sends 6 valid product events (applied), so that the chart has something to show.
    await ctx.publish(
      'product',
      [1, 2, 3, 4, 5, 6].map((id) => productEvent(id, 1)),
    );
    await ctx.waitForHandled(service, 'product', 6);
    const response = await page.goto(`${baseUrl(service)}/`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");

    // Sends one value that is not JSON to customer partition 1: it must appear as a dead letter.
    const sentAt = Date.now();
    await ctx.publish('customer', [{ raw: HOSTILE_VALUE, key: 'hostile' }], { partition: 1 });
    const row = page.locator('#deadLetters tbody tr', { hasText: `${ctx.topics.customer}/1/0` });
    await waitFor('the dead letter in the page', async () => (await row.count()) === 1, {
      timeoutMs: 20_000,
    });
    const shownAfterMs = Date.now() - sentAt;
    console.log(`dead letter shown ${shownAfterMs} ms after it was sent`);
    const cells = await row.locator('td').allTextContents();
    expect(cells[2]).toBe('invalid_json');
    // The message quotes the value; it must stay text, never become an element.
    expect(cells[3]).toContain('<img src=x');
    expect(await page.locator('#deadLetters img').count()).toBe(0);
    expect(await page.locator('#deadLetters-note').textContent()).toMatch(/^1 unresolved/);

    const points = await waitFor('at least 2 points in the chart', async () => {
      const n = Number(await page.locator('#rate-chart').getAttribute('data-points'));
      return n >= 2 ? n : undefined;
    });
    expect(points).toBeGreaterThanOrEqual(2);
    expect(await page.locator('#rate-chart canvas').count()).toBe(1);
    const rates = (await (await fetch(`${baseUrl(service)}/status`)).json()) as {
      rates: { samples: { applied: number }[] };
    };
    expect(rates.rates.samples.some((s) => s.applied > 0)).toBe(true);
    expect(problems).toEqual([]);
  });

  it('shows the lag the broker reports while the consumer is paused on the order topic', async () => {
    // Pauses the service's real consumer on the order topic, then sends 5 order events: they wait.
    const [, consumer] = service.app.getMicroservices()[0]!.unwrap<[Kafka, Consumer]>();
    consumer.pause([{ topic: ctx.topics.order }]);
    await ctx.publish(
      'order',
      [1, 2, 3, 4, 5].map((id) => orderEvent(id, 1)),
    );
    const topics = ENTITY_KINDS.map((kind) => ctx.topics[kind]);
    const orderLag = (lag: Map<string, number>) =>
      [...lag]
        .filter(([key]) => key.startsWith(`${ctx.topics.order}/`))
        .reduce((n, [, l]) => n + l, 0);
    const [shown, broker] = await waitFor(
      'the page to show the broker’s lag',
      async () => {
        const [onPage, onBroker] = [
          await pageLag(page),
          await brokerLag(admin, ctx.groupId, topics),
        ];
        const same =
          onPage.size === onBroker.size &&
          [...onBroker].every(([key, lag]) => onPage.get(key) === lag);
        return same && orderLag(onBroker) === PAUSED_ORDERS ? [onPage, onBroker] : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(shown).toEqual(broker);
    expect(shown.size).toBe(9);
    const owned = await page.locator('#partitions tbody tr td:nth-child(6)').allTextContents();
    expect(owned).toEqual(Array(9).fill('yes'));
    await expect(page.locator('#group tbody').textContent()).resolves.toContain('(this instance)');
    expect(problems).toEqual([]);
    // STATUS_PAGE_SCREENSHOT=docs/status-page.png refreshes the README's picture, lag showing.
    const screenshot = process.env.STATUS_PAGE_SCREENSHOT;
    if (screenshot) {
      mkdirSync(dirname(screenshot), { recursive: true });
      await page.screenshot({ path: screenshot, fullPage: true });
    }
    consumer.resume([{ topic: ctx.topics.order }]);
  });

  it('answers GET /status as JSON with no payload anywhere, and serves uPlot itself', async () => {
    const answer = await request(service, '/status');
    expect(answer.status).toBe(200);
    expect(answer.headers.get('cache-control')).toBe('no-store');
    const snapshot = JSON.parse(answer.text) as unknown;
    expect(keysOf(snapshot)).not.toContain('payload');
    expect(keysOf(snapshot)).toEqual(
      expect.arrayContaining(['partitions', 'deadLetters', 'rates']),
    );
    const uplot = await page.locator('script[src*="uPlot"]').getAttribute('src');
    const asset = await request(service, `/${uplot ?? 'uPlot script missing'}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(asset.text).toContain('uPlot');
  });
});

describe('status page with STATUS_PAGE_ENABLED=false', () => {
  const ctx = new TestContext();

  beforeAll(() => ctx.setUp(1));
  afterAll(() => ctx.tearDown());

  it('answers 404 on / and /status, while /health still answers', async () => {
    const service = await ctx.startService({ STATUS_PAGE_ENABLED: 'false' });
    expect((await request(service, '/')).status).toBe(404);
    expect((await request(service, '/status')).status).toBe(404);
    expect((await request(service, '/health')).status).toBe(200);
  });
});
