// The beacon's promises on a real landing page in headless Chromium, one fresh profile each:
//   gpc / dnt     the browser opts out: the beacon calls neither sendBeacon nor fetch;
//   fallback      no navigator.sendBeacon: events go out by fetch(keepalive) and are answered;
//   throwing      sendBeacon and fetch both throw: the page sees no error, links still work.
//
//   node tests/browser/beacon.mjs --base http://127.0.0.1:8787 --partner seo-consultant
//
// Prints {"<scenario>": {"calls": n, "answered": [stages], "errors": [...]}, ...}; the caller
// asserts (and checks the rows). Exits non-zero when a step cannot be done.

import { chromium } from "playwright-core";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const DESKTOP_UA =
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
const STEP_TIMEOUT_MS = 20_000;

function fail(msg) {
  console.error(`beacon.mjs: ${msg}`);
  process.exit(1);
}

const opt = {};
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) opt[argv[i].replace(/^--/, "")] = argv[i + 1];
if (!opt.base || !opt.partner) fail("--base and --partner are required");
const base = opt.base.replace(/\/$/, "");
const endpoint = new URL(opt.endpoint || "/e", base).href;

// Runs before any page script: counts transport calls and applies the scenario.
function setup(scenario) {
  const w = window;
  w.__ppCalls = 0;
  const count = (fn) => function () {
    w.__ppCalls++;
    return fn.apply(this, arguments);
  };
  if (navigator.sendBeacon) navigator.sendBeacon = count(navigator.sendBeacon.bind(navigator));
  w.fetch = count(w.fetch.bind(w));
  if (scenario === "gpc") Object.defineProperty(Navigator.prototype, "globalPrivacyControl", { get: () => true });
  if (scenario === "dnt") Object.defineProperty(Navigator.prototype, "doNotTrack", { get: () => "1" });
  if (scenario === "fallback") navigator.sendBeacon = undefined;
  if (scenario === "throwing") {
    navigator.sendBeacon = count(() => {
      throw new Error("sendBeacon broken");
    });
    w.fetch = count(() => {
      throw new Error("fetch broken");
    });
  }
}

async function run(scenario) {
  const profile = mkdtempSync(join(tmpdir(), "pp-beacon-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    userAgent: DESKTOP_UA,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  try {
    await context.addInitScript(setup, scenario);
    const page = context.pages()[0] || (await context.newPage());
    page.setDefaultTimeout(STEP_TIMEOUT_MS);
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    const answered = [];
    context.on("requestfinished", async (req) => {
      if (req.url() !== endpoint) return;
      const res = await req.response();
      if (res && res.status() === 204) answered.push(JSON.parse(req.postData() || "{}").e);
    });
    const res = await page.goto(`${base}/p/${opt.partner}/`, { waitUntil: "load" });
    if (!res || !res.ok()) fail(`${scenario}: landing page answered ${res && res.status()}`);
    // A direct visit (no /go/ link): the click goes at once, before the answer to `visit` set the
    // visitor cookie; the page id in both bodies keeps them one visitor (the caller checks).
    const popup = context.waitForEvent("page");
    await page.locator('[data-pp="lead_magnet"]').first().click({ modifiers: ["Control"] });
    // The link still opens: the beacon never gets in the way of the page.
    await (await popup).waitForLoadState("domcontentloaded");
    if (scenario === "fallback") {
      const until = Date.now() + STEP_TIMEOUT_MS;
      while (answered.length < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    }
    const calls = await page.evaluate(() => window.__ppCalls);
    return { calls, answered: answered.sort(), errors };
  } finally {
    await context.close().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
  }
}

try {
  const out = {};
  for (const scenario of ["gpc", "dnt", "fallback", "throwing"]) out[scenario] = await run(scenario);
  console.log(JSON.stringify(out));
} catch (err) {
  fail(err && err.stack ? err.stack : String(err));
}
