// Accessibility check of every built page: axe-core in headless Chromium (playwright-core).
//
// Usage: node tests/browser/validate.mjs <public-dir>
// Serves <public-dir> on a loopback port, opens every *.html in light and dark colour schemes,
// runs axe-core, and also fails on Content-Security-Policy violations (the inline style and the
// beacon must match their hashes). Prints one JSON line per page; exit 1 on serious/critical
// violations or CSP errors, 2 when a component is missing.
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join, relative, resolve, sep } from 'node:path';

const require = createRequire(import.meta.url);
const root = resolve(process.argv[2] || 'public');

function need(what, load) {
  try {
    return load();
  } catch (e) {
    console.error(`missing test component: ${what} (${e.message}). Run \`bash scripts/test\`, which installs it.`);
    process.exit(2);
  }
}
const { chromium } = need('playwright-core', () => require('playwright-core'));
const axeSource = need('axe-core', () => readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8'));
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
need(`Chromium at ${chromiumPath}`, () => statSync(chromiumPath));

function htmlFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...htmlFiles(p));
    else if (name.endsWith('.html')) out.push(relative(root, p).split(sep).join('/'));
  }
  return out;
}

const types = { '.html': 'text/html; charset=utf-8', '.xml': 'application/xml', '.md': 'text/markdown', '.txt': 'text/plain' };
const server = createServer((req, res) => {
  let path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
  if (path.endsWith('/')) path += 'index.html';
  const file = resolve(root, '.' + path);
  if (!file.startsWith(root)) { res.writeHead(403).end(); return; }
  try {
    const body = readFileSync(file);
    res.writeHead(200, { 'content-type': types[extname(file)] || 'application/octet-stream' }).end(body);
  } catch {
    res.writeHead(404).end();
  }
});
await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
const base = `http://127.0.0.1:${server.address().port}`;

const userDataDir = mkdtempSync(join(tmpdir(), 'pp-chromium-'));
const browser = await chromium.launchPersistentContext(userDataDir, {
  executablePath: chromiumPath,
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

let failed = 0;
const pages = htmlFiles(root);
if (pages.length === 0) { console.error(`no .html files under ${root}`); process.exit(1); }
try {
  for (const scheme of ['light', 'dark']) {
    for (const rel of pages) {
      const page = await browser.newPage();
      await page.emulateMedia({ colorScheme: scheme });
      const cspErrors = [];
      page.on('console', (m) => { if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) cspErrors.push(m.text()); });
      page.on('pageerror', (e) => cspErrors.push(`page error: ${e.message}`));
      await page.goto(`${base}/${rel}`, { waitUntil: 'load' });
      // Runtime evaluation is not subject to the page's CSP, so axe runs without weakening it.
      await page.evaluate(axeSource);
      const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
      const serious = result.violations
        .filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.join(' ')).slice(0, 5) }));
      if (serious.length || cspErrors.length) failed++;
      console.log(JSON.stringify({ page: rel, scheme, serious, csp: cspErrors }));
      await page.close();
    }
  }
} finally {
  await browser.close();
  server.close();
  rmSync(userDataDir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
