// No table header broken mid-word, and no report wider than the screen: open each HTML file
// in headless Chromium at 375 px and 1280 px wide and, for every <th> (of the staff overlay when the page has one), check that no
// word of it is laid out over two lines.
//
// Usage: node tests/browser/headers.mjs <file.html>...
// Prints one JSON line per file and width ({file, width, headers, broken: [...]}); exit 1 when a
// header word is broken or a file has no header, 2 when a component is missing.
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);
function need(what, load) {
  try {
    return load();
  } catch (e) {
    console.error(`missing test component: ${what} (${e.message}). Run \`bash scripts/test\`, which installs it.`);
    process.exit(2);
  }
}
const { chromium } = need('playwright-core', () => require('playwright-core'));
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
need(`Chromium at ${chromiumPath}`, () => statSync(chromiumPath));

const files = process.argv.slice(2).map((f) => resolve(f));
if (files.length === 0) { console.error('no files given'); process.exit(1); }

const userDataDir = mkdtempSync(join(tmpdir(), 'pp-chromium-'));
const browser = await chromium.launchPersistentContext(userDataDir, {
  executablePath: chromiumPath,
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
let failed = 0;
try {
  for (const file of files) {
    for (const width of [375, 1280]) {
      // A persistent context ignores newPage's options: set the width on the page itself.
      const page = await browser.newPage();
      await page.setViewportSize({ width, height: 800 });
      await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
      const result = await page.evaluate(() => {
        const broken = [];
        // On a landing page, the staff overlay's headers (the page's own content is the
        // partner's); on a report, every header.
        const scope = document.querySelector('.pp-preview') || document;
        const ths = [...scope.querySelectorAll('th')];
        for (const th of ths) {
          const walker = document.createTreeWalker(th, NodeFilter.SHOW_TEXT);
          for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            const text = node.textContent;
            const re = /\S+/g;
            for (let m = re.exec(text); m; m = re.exec(text)) {
              const range = document.createRange();
              range.setStart(node, m.index);
              range.setEnd(node, m.index + m[0].length);
              const tops = new Set([...range.getClientRects()]
                .filter((r) => r.width > 0)
                .map((r) => Math.round(r.top)));
              if (tops.size > 1) broken.push(`${th.textContent.trim()} (${m[0]})`);
            }
          }
        }
        // A report must fit the screen: a wide table scrolls inside itself, the page does not.
        const overflow = !document.querySelector('.pp-preview')
          && document.documentElement.scrollWidth > window.innerWidth;
        return { headers: ths.length, broken, overflow };
      });
      const line = { file, width, ...result };
      console.log(JSON.stringify(line));
      if (result.headers === 0 || result.broken.length > 0 || result.overflow) failed++;
      await page.close();
    }
  }
} finally {
  await browser.close();
  rmSync(userDataDir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
