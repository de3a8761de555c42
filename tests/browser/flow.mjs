// The funnel as a real visitor walks it, in headless Chromium: partner link -> landing page ->
// lead magnet -> CTA -> activation. Used against the Worker (wrangler dev) and `partner-pages
// serve`; the caller then asserts the rows the collector wrote.
//
//   node tests/browser/flow.mjs --base http://127.0.0.1:8787 --partner founder-community \
//     --campaign slack-digest --activation page:/pricing/
//   (--activation click:<name> clicks [data-pp-click="<name>"] on the landing page instead)
//   --direct 1: a direct visit instead: open the landing page without the /go/ link (no
//   visitor cookie yet) and click lead_magnet and cta at once, without waiting for any answer.
//   The beacons are held in the browser until all three (visit, lead_magnet, cta) are out, so
//   none of them can carry a cookie set by another's answer: the race is certain, not lucky.
//
// Prints one JSON object: {"landing": url, "beacons": [{"body": ..., "status": n}, ...],
// "cookies": [...], "page_errors": [uncaught errors on the page, expected none]}.
// Exits non-zero with a message when a step cannot be done (no silent pass).

import { chromium } from "playwright-core";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

// Headless Chromium says "HeadlessChrome", a bot marker the collectors do not count.
const DESKTOP_UA =
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
const STEP_TIMEOUT_MS = 20_000;

function args() {
  const out = {};
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith("--") || argv[i + 1] === undefined) fail(`bad argument ${argv[i]}`);
    out[argv[i].slice(2)] = argv[i + 1];
  }
  for (const k of ["base", "partner", "activation"]) if (!out[k]) fail(`--${k} is required`);
  out.base = out.base.replace(/\/$/, "");
  out.endpoint = out.endpoint || "/e";
  return out;
}

function fail(msg) {
  console.error(`flow.mjs: ${msg}`);
  process.exit(1);
}

const opt = args();
const profile = mkdtempSync(join(tmpdir(), "pp-flow-"));
let context;
try {
  context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    userAgent: DESKTOP_UA,
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
  const beacons = [];
  const endpoint = new URL(opt.endpoint, opt.base).href;
  context.on("requestfinished", async (req) => {
    if (req.url() !== endpoint) return;
    const res = await req.response();
    beacons.push({ body: JSON.parse(req.postData() || "null"), status: res ? res.status() : null });
  });
  // Wait until the collector has answered the beacon of one stage.
  const answered = async (stage, what) => {
    const until = Date.now() + STEP_TIMEOUT_MS;
    while (Date.now() < until) {
      if (beacons.some((b) => b.body && b.body.e === stage && b.status !== null)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    fail(`no answered ${stage} beacon after ${what}; beacons so far: ${JSON.stringify(beacons)}`);
  };

  if (opt.direct) {
    // Hold every beacon until the first three are out, then let them go together.
    const held = [];
    let released = false;
    const release = () => {
      released = true;
      for (const r of held.splice(0)) r.continue().catch(() => {});
    };
    await context.route(endpoint, (route) => {
      if (released) return route.continue();
      held.push(route);
      if (held.length >= 3) release();
    });
    setTimeout(() => {
      if (!released) {
        console.error(`flow.mjs: only ${held.length} beacons went out in time on the direct visit`);
        release();
      }
    }, STEP_TIMEOUT_MS).unref();
  }

  const page = context.pages()[0] || (await context.newPage());
  page.setDefaultTimeout(STEP_TIMEOUT_MS);
  const pageErrors = [];
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  const query = opt.campaign ? `?campaign=${encodeURIComponent(opt.campaign)}` : "";
  const go = opt.direct ? `${opt.base}/p/${encodeURIComponent(opt.partner)}/${query}` : `${opt.base}/go/${encodeURIComponent(opt.partner)}${query}`;
  const res = await page.goto(go, { waitUntil: "load" });
  if (!res || !res.ok()) fail(`${go} answered ${res && res.status()}`);
  const landing = page.url();
  if (!new URL(landing).pathname.endsWith(`/p/${opt.partner}/`)) fail(`${go} did not land on the partner page but on ${landing}`);
  if (!opt.direct) await answered("visit", "opening the landing page");

  // Ctrl+click opens the link in a background tab: the click is the conversion, and the
  // landing page stays put (no second visit from coming back). A direct visit clicks at once.
  for (const stage of ["lead_magnet", "cta"]) {
    await page.locator(`[data-pp="${stage}"]`).first().click({ modifiers: ["Control"] });
    if (!opt.direct) await answered(stage, `clicking [data-pp="${stage}"]`);
  }
  for (const stage of ["visit", "lead_magnet", "cta"]) await answered(stage, `the ${stage} beacon`);

  const [kind, target] = [opt.activation.slice(0, opt.activation.indexOf(":")), opt.activation.slice(opt.activation.indexOf(":") + 1)];
  if (kind === "page") {
    const r = await page.goto(new URL(target, opt.base).href, { waitUntil: "load" });
    if (!r || !r.ok()) fail(`activation page ${target} answered ${r && r.status()}`);
  } else if (kind === "click") {
    await page.locator(`[data-pp-click="${target}"]`).first().click({ modifiers: ["Control"] });
  } else {
    fail(`--activation must be page:<path> or click:<name>, not ${opt.activation}`);
  }
  await answered("activation", `activation ${opt.activation}`);

  const cookies = (await context.cookies(opt.base)).map((c) => ({ name: c.name, value: c.value, httpOnly: c.httpOnly, sameSite: c.sameSite }));
  console.log(JSON.stringify({ landing, beacons, cookies, page_errors: pageErrors }));
} catch (err) {
  fail(err && err.stack ? err.stack : String(err));
} finally {
  if (context) await context.close().catch(() => {});
  rmSync(profile, { recursive: true, force: true });
}
