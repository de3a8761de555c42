// Fixes a defect of the pinned wrangler's dev proxy (node_modules/wrangler, 4.86.0) that made
// the e2e tier hang: run by `bash scripts/test` after `npm ci`, and by `npm ci` itself
// (postinstall). Idempotent; fails loudly when the file is not the one it was written for.
//
// `wrangler dev` answers on a ProxyWorker (one workerd) that forwards each request to the Worker
// (a second workerd) over pooled keep-alive connections. Both ends close an idle connection after
// 5 s (workerd's HTTP client and server defaults), so a request written onto a connection idle for
// about 5 s can cross the server's close and fail with "Network connection lost"; on a loaded
// machine the window widens. The ProxyWorker then asks "has the Worker been reloaded?" by
// comparing the request's full URL with the Worker's root URL: for every path but `/` the answer
// is wrongly "yes", and a GET or HEAD is parked until the next reload, which never comes. The
// request hangs with nothing logged (wrangler's own changelog, 4.114.0: "GET/HEAD requests would
// silently hang (with nothing logged) until the client timed out"; cloudflare/workers-sdk#14593),
// and a POST gets a false 503 "Your worker restarted mid-request".
//
// The patch compares origins, as wrangler does from 4.114.0 on, and sends a GET or HEAD that lost
// its connection to the unchanged Worker again on a new connection (at most twice more), as
// wrangler does since cloudflare/workers-sdk#15252; each time with a line in wrangler's log, so
// the event stays visible. Other failures are reported as before. Those wrangler versions need
// Node.js 22, while the project supports Node.js 20: remove this script when the pin moves past
// them.

import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const pkg = join(root, "node_modules/wrangler/package.json");
const file = join(root, "node_modules/wrangler/wrangler-dist/ProxyWorker.js");
const MARKER = "partner-pages patch: dev proxy connection loss";
const FOR_VERSION = "4.86.0";

function fail(msg) {
  console.error(`scripts/patch-wrangler.mjs: ${msg}`);
  process.exit(1);
}

let version;
try {
  version = JSON.parse(readFileSync(pkg, "utf8")).version;
} catch {
  // No wrangler installed (npm ci --omit=dev or similar): nothing to patch.
  process.exit(0);
}
let text = readFileSync(file, "utf8");
if (text.includes(MARKER)) process.exit(0);
if (version !== FOR_VERSION) {
  fail(`wrangler ${version} is installed; this patch is written for ${FOR_VERSION}. Check that the installed version compares origins when a proxied request fails and resends a GET that lost its connection, then remove this script and its calls.`);
}

const edits = [
  // The fetch becomes a function of the attempt number.
  [
    "      void fetch(userWorkerUrl, new Request(request, { headers })).then(async (res) => {",
    `      // ${MARKER}\n      const send = (attempt) => void fetch(userWorkerUrl, new Request(request, { headers })).then(async (res) => {`,
  ],
  // Same Worker: compare origins, resend a bodiless request on a new connection.
  [
    "        if (userWorkerUrl.href === newUserWorkerUrl?.href) {\n",
    "        if (userWorkerUrl.origin === newUserWorkerUrl?.origin) {\n" +
      '          if ((request.method === "GET" || request.method === "HEAD") && attempt < 3) {\n' +
      "            console.warn(`ProxyWorker: ${request.method} ${request.url} lost its connection to the Worker (${error.message}); sending it again on a new connection (attempt ${attempt + 1} of 3)`);\n" +
      "            send(attempt + 1);\n" +
      "            return;\n" +
      "          }\n",
  ],
  // The first attempt, after the handler.
  [
    "          );\n        }\n      });\n    }\n  }\n};",
    "          );\n        }\n      });\n      send(1);\n    }\n  }\n};",
  ],
];
for (const [from, to] of edits) {
  const at = text.indexOf(from);
  if (at < 0 || text.indexOf(from, at + 1) >= 0) {
    fail(`${file}: expected exactly one ${JSON.stringify(from.trim().split("\n")[0])}; the installed wrangler is not the one this patch was written for`);
  }
  text = text.replace(from, to);
}
writeFileSync(file, text);
console.log(`scripts/patch-wrangler.mjs: patched wrangler ${version}'s dev proxy (origin comparison, GET/HEAD resent after a lost connection)`);
