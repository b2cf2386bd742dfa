import * as fs from 'node:fs';
import * as path from 'node:path';
import { TestStack } from './stack';
import { Browser, BrowserContext, chromium, Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const WEB_OUTPUT = path.resolve(__dirname, '../../test-output/web');
export const PASSWORD = 'correct horse battery';

/** The three sizes the screenshots are taken at. */
export const VIEWPORTS = {
  desktop: { width: 1440, height: 900 },
  tablet: { width: 768, height: 1024 },
  phone: { width: 390, height: 844 },
} as const;

/** Debian's Chromium, headless, with the flags the machine needs (docs/testing.md). */
export async function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`The browser tests need Chromium at ${CHROMIUM} (Debian: apt-get install chromium), or CHROMIUM_PATH pointing at one.`);
  }
  fs.mkdirSync(WEB_OUTPUT, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export interface OpenedPage {
  context: BrowserContext;
  page: Page;
  /** Console errors and uncaught exceptions of the page. */
  errors: string[];
}

export async function openPage(
  browser: Browser,
  options: { viewport?: { width: number; height: number }; colorScheme?: 'light' | 'dark' } = {},
): Promise<OpenedPage> {
  const context = await browser.newContext({
    viewport: options.viewport ?? VIEWPORTS.desktop,
    colorScheme: options.colorScheme ?? 'light',
    acceptDownloads: true,
  });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  return { context, page, errors };
}

/** Registers a new account through the app and waits for the library. */
/** What a browser suite shares across its tests (see `browserSuite`). */
export interface BrowserSuite {
  /** The built api and one worker on real Redis and SQLite, from `beforeAll` on. */
  readonly stack: TestStack;
  /** A new page in its own context, closed with the suite. */
  open(options?: Parameters<typeof openPage>[1]): Promise<OpenedPage>;
}

/**
 * One test file's browser set-up: the built api and a worker, and headless Chromium, started
 * before its tests and stopped after them, with every page opened through `open` closed first.
 */
export function browserSuite(): BrowserSuite {
  let stack: TestStack | undefined;
  let browser: Browser | undefined;
  const opened: OpenedPage[] = [];
  beforeAll(async () => {
    stack = await TestStack.start({ workers: 1 });
    browser = await launchChromium();
  });
  afterAll(async () => {
    for (const each of opened) await each.context.close().catch(() => undefined);
    await browser?.close();
    await stack?.stop();
  });
  return {
    get stack(): TestStack {
      if (!stack) throw new Error('browserSuite: the stack starts in beforeAll');
      return stack;
    },
    async open(options) {
      if (!browser) throw new Error('browserSuite: Chromium starts in beforeAll');
      const page = await openPage(browser, options);
      opened.push(page);
      return page;
    },
  };
}

export async function signUp(page: Page, baseUrl: string, label = 'e2e'): Promise<string> {
  const email = `${label}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.com`;
  await page.goto(`${baseUrl}/register`);
  await page.getByTestId('register-email').fill(email);
  await page.getByTestId('register-password').fill(PASSWORD);
  await page.getByTestId('register-submit').click();
  await page.waitForURL(/\/dashboard/);
  return email;
}

/** Signs in an existing account through the app. */
export async function signIn(page: Page, baseUrl: string, email: string): Promise<void> {
  await page.goto(`${baseUrl}/login`);
  await page.getByTestId('login-email').fill(email);
  await page.getByTestId('login-password').fill(PASSWORD);
  await page.getByTestId('login-submit').click();
  await page.waitForURL(/\/dashboard/);
}

const AXE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

interface AxeViolation {
  id: string;
  help: string;
  nodes: { target: string[]; failureSummary?: string }[];
}

/**
 * Runs axe-core (every rule it runs by default: WCAG 2 A/AA and best practices) on the page as it
 * is now, and returns its violations in a readable form ('rule: help @ selectors'). axe is
 * evaluated through the DevTools protocol, which the page's CSP does not block.
 */
export async function axeViolations(page: Page): Promise<string[]> {
  await page.evaluate(AXE);
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(context: unknown, options: unknown): Promise<{ violations: AxeViolation[] }> } })
      .axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations;
  });
  return violations.map(
    (violation) =>
      `${violation.id}: ${violation.help} @ ${violation.nodes
        .slice(0, 3)
        .map((node) => `${node.target.join(' ')} (${node.failureSummary?.replace(/\s+/g, ' ') ?? ''})`)
        .join('; ')}`,
  );
}

export async function screenshot(page: Page, name: string, fullPage = false): Promise<void> {
  await page.screenshot({ path: path.join(WEB_OUTPUT, `${name}.png`), fullPage });
}

/**
 * The bits of the page's DOM that code run in the browser (page.evaluate, waitForFunction) reads:
 * the tests compile without DOM typings, which clash with Node's.
 */
export interface PageElement {
  textContent: string | null;
  getAttribute(name: string): string | null;
  getBoundingClientRect(): { top: number; bottom: number; left: number; right: number; width: number; height: number };
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): ArrayLike<PageElement>;
  closest(selector: string): PageElement | null;
}

export interface PageDocument {
  activeElement: PageElement | null;
  documentElement: { scrollWidth: number; clientWidth: number };
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): ArrayLike<PageElement>;
}

declare const document: PageDocument;

/** The bits of an <img> element read in the page (the tests compile without DOM typings). */
export interface LoadedImage {
  complete: boolean;
  naturalWidth: number;
  naturalHeight: number;
}
