// A partner page inside a real third-party theme, in headless Chromium at 1280 and 375 px:
// screenshots, then what a marketer would check by eye, measured from computed styles.
//
//   node tests/browser/theme.mjs --base http://127.0.0.1:8080 --page /partners/p/acme/ \
//     --name papermod --out target/e2e-artifacts/themes
//   node tests/browser/theme.mjs --sheet target/e2e-artifacts/themes   (contact sheet of every PNG)
//
// Prints one JSON object: {"widths": {"1280": {...}, "375": {...}}, "page_errors": [...]}, each
// width with "buttons" (padding, background/border visibility, height per data-pp link),
// "headline_px", "body_px", "overflow" (elements past the right edge), "scroll_width",
// "axe" (colour-contrast and landmark violations inside .pp-partner), "head" (JSON-LD,
// hreflang and aria-current counts), "screenshot".
// Exits non-zero with a message when a step cannot be done (no silent pass).

import { chromium } from "playwright-core";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const TIMEOUT_MS = 40_000;

function fail(msg) {
  console.error(`theme.mjs: ${msg}`);
  process.exit(1);
}

const opt = {};
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) {
  if (!argv[i].startsWith("--") || argv[i + 1] === undefined) fail(`bad argument ${argv[i]}`);
  opt[argv[i].slice(2)] = argv[i + 1];
}
if (!opt.sheet) for (const k of ["base", "page", "name", "out"]) if (!opt[k]) fail(`--${k} is required`);

const profile = mkdtempSync(join(tmpdir(), "pp-theme-"));
let context;
try {
  context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  if (opt.sheet) {
    await sheet(resolve(opt.sheet));
  } else {
    await measure();
  }
} catch (e) {
  fail(e && e.stack ? e.stack : String(e));
} finally {
  if (context) await context.close();
  rmSync(profile, { recursive: true, force: true });
}

async function measure() {
  mkdirSync(opt.out, { recursive: true });
  const url = new URL(opt.page, opt.base).href;
  const result = { url, widths: {}, page_errors: [] };
  for (const width of [1280, 375]) {
    const page = await context.newPage();
    page.setDefaultTimeout(TIMEOUT_MS);
    page.on("pageerror", (e) => result.page_errors.push(String(e)));
    await page.setViewportSize({ width, height: 900 });
    const res = await page.goto(url, { waitUntil: "load" });
    if (!res || res.status() !== 200) fail(`${url}: status ${res && res.status()}`);
    await page.evaluate(() => document.fonts && document.fonts.ready);
    const shot = resolve(join(opt.out, `${opt.name}-${width}.png`));
    await page.screenshot({ path: shot, fullPage: true });
    const seen = await page.evaluate(() => {
      const root = document.querySelector(".pp-partner");
      if (!root) return { error: "no .pp-partner on the page" };
      const px = (v) => parseFloat(v) || 0;
      const visible = (color) => {
        const m = color.match(/rgba?\(([^)]+)\)/);
        if (!m) return color !== "transparent";
        const parts = m[1].split(/[ ,/]+/).filter(Boolean);
        return parts.length < 4 || parseFloat(parts[3]) > 0;
      };
      const buttons = [...root.querySelectorAll("[data-pp]")].map((a) => {
        const s = getComputedStyle(a);
        const r = a.getBoundingClientRect();
        const border = ["Top", "Right", "Bottom", "Left"].some(
          (side) => px(s[`border${side}Width`]) > 0 && s[`border${side}Style`] !== "none" && visible(s[`border${side}Color`]),
        );
        return {
          stage: a.getAttribute("data-pp"),
          text: a.textContent.trim(),
          padding: [px(s.paddingTop), px(s.paddingRight), px(s.paddingBottom), px(s.paddingLeft)],
          background: visible(s.backgroundColor) || s.backgroundImage !== "none",
          background_color: s.backgroundColor,
          border,
          height: r.height,
          color: s.color,
        };
      });
      const h1 = root.querySelector("h1");
      const para = root.querySelector(".pp-body p") || root.querySelector("p");
      const overflow = [];
      for (const el of root.querySelectorAll("*")) {
        if (el.closest("table, pre")) continue;
        const r = el.getBoundingClientRect();
        if (r.width > 0 && r.right > window.innerWidth + 1) overflow.push(`${el.tagName.toLowerCase()}.${el.className}: right ${Math.round(r.right)}`);
      }
      const head = document.head || document.documentElement;
      return {
        buttons,
        headline_px: h1 ? px(getComputedStyle(h1).fontSize) : 0,
        body_px: para ? px(getComputedStyle(para).fontSize) : 0,
        scroll_width: document.documentElement.scrollWidth,
        inner_width: window.innerWidth,
        overflow,
        head: {
          json_ld: document.querySelectorAll('script[type="application/ld+json"]').length,
          hreflang: head.querySelectorAll("link[hreflang]").length,
          aria_current: document.querySelectorAll("[aria-current]").length,
          active_class: document.querySelectorAll(".active, .is-active").length,
          titles: document.querySelectorAll("title").length,
          title: document.title,
          canonical: (document.querySelector('link[rel="canonical"]') || {}).href || null,
        },
      };
    });
    if (seen.error) fail(`${url} at ${width} px: ${seen.error}`);
    // Runtime evaluation is not subject to the page's CSP.
    await page.evaluate(axeSource);
    const axe = await page.evaluate(() =>
      window.axe.run({ include: [".pp-partner"] }, { resultTypes: ["violations"] }),
    );
    seen.axe = axe.violations
      .filter((v) => v.id === "color-contrast" || v.id.startsWith("landmark") || v.id === "region")
      .map((v) => ({ id: v.id, nodes: v.nodes.map((n) => `${n.target.join(" ")}: ${n.failureSummary}`) }));
    seen.screenshot = shot;
    result.widths[String(width)] = seen;
    await page.close();
  }
  console.log(JSON.stringify(result));
}

// One page with every screenshot of the folder side by side (desktop, then phone, per theme).
async function sheet(dir) {
  const shots = readdirSync(dir).filter((f) => f.endsWith(".png") && f !== "contact-sheet.png").sort();
  if (shots.length === 0) fail(`no screenshots in ${dir}`);
  const names = [...new Set(shots.map((f) => f.replace(/-\d+\.png$/, "")))];
  const cell = (f) => {
    const data = readFileSync(join(dir, f)).toString("base64");
    return `<figure><img src="data:image/png;base64,${data}"><figcaption>${f}</figcaption></figure>`;
  };
  const rows = names
    .map((n) => `<div class="row">${shots.filter((f) => f.startsWith(`${n}-`)).sort((a, b) => parseInt(b.split("-").pop()) - parseInt(a.split("-").pop())).map(cell).join("")}</div>`)
    .join("");
  const html = `<!doctype html><meta charset="utf-8"><style>body{margin:0;padding:16px;background:#ddd;font:14px sans-serif}
.row{display:flex;gap:16px;align-items:flex-start;margin-bottom:16px}figure{margin:0;background:#fff;padding:8px}
figure img{display:block;max-height:1100px;width:auto}figure:first-child img{width:800px;height:auto;max-height:none;object-fit:cover;object-position:top}
figure:nth-child(2) img{width:300px;height:auto}</style>${rows}`;
  const file = join(dir, "contact-sheet.html");
  writeFileSync(file, html);
  const page = await context.newPage();
  await page.setViewportSize({ width: 1200, height: 800 });
  await page.goto(`file://${file}`);
  const out = join(dir, "contact-sheet.png");
  await page.screenshot({ path: out, fullPage: true });
  rmSync(file);
  console.log(JSON.stringify({ sheet: out, shots }));
}
