// A promise test as visitors see it, in headless Chromium: every visitor is a fresh browser
// context that opens the partner's landing page twice (two page loads), then "comes back
// another day": the context is closed and a new one opened with only what the first stored
// (its cookies), and the page is opened once more. Used against the Worker (wrangler dev) and
// `partner-pages serve`; the caller asserts the variant shown, the cookies and the rows.
//
//   node tests/browser/experiment.mjs --base http://127.0.0.1:8787 --partner seo-consultant \
//     --visitors 20
//
// Every view waits until the collector has answered that page load's visit beacon, so the
// rows are written when this prints. Prints one JSON object:
// {"visitors": [{"views": [{"label", "requested", "url", "status", "chain": [{"url",
// "status"}], "redirected_from": url or null, "headline"}], "beacons": [{"body", "status"}],
// "cookies": [{"name", "value"}]}], "page_errors": [...]}.
// Exits non-zero with a message when a step cannot be done (no silent pass).

import { chromium } from "playwright-core";

// Headless Chromium says "HeadlessChrome", a bot marker the collectors do not count.
const DESKTOP_UA =
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
const STEP_TIMEOUT_MS = 20_000;

function fail(msg) {
  console.error(`experiment.mjs: ${msg}`);
  process.exit(1);
}

const opt = {};
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) {
  if (!argv[i].startsWith("--") || argv[i + 1] === undefined) fail(`bad argument ${argv[i]}`);
  opt[argv[i].slice(2)] = argv[i + 1];
}
if (!opt.base || !opt.partner) fail("--base and --partner are required");
const base = opt.base.replace(/\/$/, "");
const endpoint = new URL(opt.endpoint || "/e", base).href;
const visitors = Number(opt.visitors || 20);
if (!Number.isInteger(visitors) || visitors < 1) fail(`--visitors must be a positive integer`);
const landing = `${base}/p/${encodeURIComponent(opt.partner)}/`;

const pageErrors = [];

// A context whose answered beacons are recorded in `beacons`.
async function context(browser, beacons, storageState) {
  const ctx = await browser.newContext({ userAgent: DESKTOP_UA, storageState });
  ctx.on("requestfinished", async (req) => {
    if (req.url() !== endpoint) return;
    const res = await req.response();
    beacons.push({ body: JSON.parse(req.postData() || "null"), status: res ? res.status() : null });
  });
  return ctx;
}

// One page load of the landing page in `ctx`, waiting for its visit beacon's answer.
async function view(ctx, beacons, label) {
  const page = await ctx.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT_MS);
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  const chain = [];
  page.on("response", (r) => {
    if (r.request().isNavigationRequest() && r.frame() === page.mainFrame()) {
      chain.push({ url: r.url(), status: r.status() });
    }
  });
  const visitsBefore = beacons.filter((b) => b.body && b.body.e === "visit").length;
  const res = await page.goto(landing, { waitUntil: "load" });
  if (!res) fail(`${label}: no response for ${landing}`);
  const until = Date.now() + STEP_TIMEOUT_MS;
  while (beacons.filter((b) => b.body && b.body.e === "visit" && b.status !== null).length <= visitsBefore) {
    if (Date.now() > until) fail(`${label}: no answered visit beacon; beacons: ${JSON.stringify(beacons)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const headline = await page.locator("h1").first().innerText();
  const from = res.request().redirectedFrom();
  const out = {
    label,
    requested: landing,
    url: page.url(),
    status: res.status(),
    chain,
    redirected_from: from ? from.url() : null,
    headline,
  };
  await page.close();
  return out;
}

let browser;
try {
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  const out = [];
  for (let v = 0; v < visitors; v++) {
    const beacons = [];
    const first = await context(browser, beacons);
    const views = [await view(first, beacons, `visitor ${v}, first view`)];
    views.push(await view(first, beacons, `visitor ${v}, second view`));
    // Another day: a new context that holds only what the first one stored.
    const stored = await first.storageState();
    await first.close();
    const later = await context(browser, beacons, stored);
    views.push(await view(later, beacons, `visitor ${v}, a later day`));
    const cookies = (await later.cookies(base)).map((c) => ({ name: c.name, value: c.value }));
    await later.close();
    out.push({ views, beacons, cookies });
  }
  console.log(JSON.stringify({ visitors: out, page_errors: pageErrors }));
} catch (err) {
  fail(err && err.stack ? err.stack : String(err));
} finally {
  if (browser) await browser.close().catch(() => {});
}
