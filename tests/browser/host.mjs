// A visitor of a host site (Hugo, Astro, Eleventy) with partner pages under a prefix, in headless
// Chromium: the partner link -> the landing page in the host's shell -> lead magnet and CTA
// (both pages of the host) -> the activation page of the host.
//
//   node tests/browser/host.mjs --base http://127.0.0.1:8787 --prefix /partners --partner acme \
//     --header "#site-header" --stylesheet /css/site.css --activation /pricing/
//
// Prints one JSON object: {"landing": url, "landing_status": n, "header": bool,
// "stylesheet_status": n, "targets": {"lead_magnet": [url, status], "cta": [url, status]},
// "activation_status": n, "beacons": [{"body": ..., "status": n}], "page_errors": [...]}.
// Exits non-zero with a message when a step cannot be done (no silent pass); the message lists
// what the walked page loaded, request by request, so a lost request shows as what it was.

import { chromium } from "playwright-core";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

// Headless Chromium says "HeadlessChrome", a bot marker the collectors do not count.
const DESKTOP_UA =
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
// Generous: the e2e tier runs Chromium, workerd and host builds side by side on two cores.
const STEP_TIMEOUT_MS = 40_000;

function fail(msg) {
  console.error(`host.mjs: ${msg}`);
  process.exit(1);
}

const opt = {};
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) {
  if (!argv[i].startsWith("--") || argv[i + 1] === undefined) fail(`bad argument ${argv[i]}`);
  opt[argv[i].slice(2)] = argv[i + 1];
}
for (const k of ["base", "prefix", "partner", "header", "stylesheet", "activation"]) if (!opt[k]) fail(`--${k} is required`);
const base = opt.base.replace(/\/$/, "");
const endpoint = new URL(opt.endpoint || "/e", base).href;

const profile = mkdtempSync(join(tmpdir(), "pp-host-"));
let context;
// Every request of the walked page, in order, with its status or failure: one entry per
// request, not per URL (a background tab loads the same script and stylesheet); and the
// requests sent but not answered yet, named when a step times out.
const loads = [];
const pending = new Set();
try {
  context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    userAgent: DESKTOP_UA,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  // Beacons of every tab (the walked page sends them; the background tabs opened by the clicks
  // are host pages that must send none of the stages waited for).
  const beacons = [];
  context.on("requestfinished", async (req) => {
    if (req.url() !== endpoint) return;
    const res = await req.response();
    beacons.push({ body: JSON.parse(req.postData() || "null"), status: res ? res.status() : null });
  });
  const failed = [];
  context.on("requestfailed", (req) => {
    if (req.url() === endpoint) failed.push({ body: req.postData(), error: req.failure()?.errorText });
  });
  const seen = (stage) => beacons.some((b) => b.body && b.body.e === stage && b.status !== null);
  const waitFor = async (stage) => {
    const until = Date.now() + STEP_TIMEOUT_MS;
    while (Date.now() < until) {
      if (seen(stage)) return true;
      await new Promise((r) => setTimeout(r, 50));
    }
    return false;
  };
  const page = context.pages()[0] || (await context.newPage());
  page.setDefaultTimeout(STEP_TIMEOUT_MS);
  const pageErrors = [];
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  page.on("request", (req) => pending.add(req));
  page.on("requestfinished", async (req) => {
    pending.delete(req);
    const res = await req.response();
    loads.push({ url: req.url(), status: res ? res.status() : null });
  });
  page.on("requestfailed", (req) => {
    pending.delete(req);
    loads.push({ url: req.url(), error: req.failure()?.errorText });
  });
  const answered = async (stage, what) => {
    if (await waitFor(stage)) return;
    // What the page loaded says whether the script never came or never sent.
    fail(`no answered ${stage} beacon after ${what}; beacons so far: ${JSON.stringify(beacons)}; failed beacon requests: ${JSON.stringify(failed)}; requests of the page: ${JSON.stringify(loads)}`);
  };

  const go = `${base}${opt.prefix}/go/${encodeURIComponent(opt.partner)}`;
  const res = await page.goto(go, { waitUntil: "load" });
  if (!res) fail(`${go}: no response`);
  const landing = page.url();
  const want = `${opt.prefix}/p/${opt.partner}/`;
  if (new URL(landing).pathname !== want) fail(`${go} landed on ${landing}, not ${want}`);
  await answered("visit", "opening the landing page");
  const header = (await page.locator(opt.header).count()) > 0;
  const sheet = new URL(opt.stylesheet, base).href;
  const linked = await page.locator(`link[rel="stylesheet"][href="${opt.stylesheet}"]`).count();
  const stylesheetStatus = linked > 0 ? (loads.find((l) => l.url === sheet)?.status ?? null) : null;

  // Ctrl+click opens the link in a background tab: the click is the conversion; the target's
  // status is then read with the page's cookies.
  const targets = {};
  for (const stage of ["lead_magnet", "cta"]) {
    const link = page.locator(`[data-pp="${stage}"]`).first();
    const href = new URL(await link.getAttribute("href"), landing).href;
    await link.click({ modifiers: ["Control"] });
    await answered(stage, `clicking [data-pp="${stage}"]`);
    const r = await page.request.get(href, { maxRedirects: 0 });
    targets[stage] = [href, r.status()];
  }
  const act = await page.goto(new URL(opt.activation, base).href, { waitUntil: "load" });
  await answered("activation", `opening ${opt.activation}`);

  console.log(
    JSON.stringify({
      landing,
      landing_status: res.status(),
      header,
      stylesheet_status: stylesheetStatus,
      targets,
      activation_status: act ? act.status() : null,
      beacons,
      page_errors: pageErrors,
    }),
  );
} catch (err) {
  const unanswered = [...pending].map((r) => `${r.method()} ${r.url()}`);
  fail(`${err && err.stack ? err.stack : String(err)}\nrequests of the page: ${JSON.stringify(loads)}; sent, not answered: ${JSON.stringify(unanswered)}`);
} finally {
  if (context) await context.close().catch(() => {});
  rmSync(profile, { recursive: true, force: true });
}
