//! Plugin mode end to end with the real host generators: a fixture site of each host in
//! `tests/fixtures/hosts/<host>/` goes through the recipe of the docs (partner data, host build,
//! `partner-pages build` into the host output with the host's shell), then `wrangler dev` on the
//! generated collector over the whole output, and headless Chromium walks the funnel.
//! Route mode runs the same walk with the host on a plain static server behind the Worker.

use crate::support::{self, repo_root};
use crate::tools::require_tool;
use crate::worker::{free_port, try_http};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const READY_WITHIN: Duration = Duration::from_secs(120);

/// One host generator and how its fixture is built.
struct Host {
    name: &'static str,
    /// Program and arguments of the host build, run in the fixture folder.
    build: fn(&Path) -> Command,
    /// The host's output folder, relative to the fixture.
    output: &'static str,
}

/// The Hugo build of a fixture site (also the vendored themes' build).
pub(crate) fn hugo(dir: &Path) -> Command {
    let mut c = Command::new(require_tool("hugo", "Hugo (Debian package `hugo`)"));
    c.args(["--quiet", "--source"]).arg(dir);
    c
}

const HUGO: Host = Host {
    name: "hugo",
    build: hugo,
    output: "public",
};

/// The Eleventy build of a fixture site (also the vendored themes' build).
pub(crate) fn eleventy(dir: &Path) -> Command {
    let mut c = Command::new(require_tool(
        "eleventy",
        "Eleventy (pinned in package.json: npm ci)",
    ));
    c.arg("--quiet").current_dir(dir);
    c
}

/// The Astro build of a fixture site (also the vendored themes' build).
pub(crate) fn astro(dir: &Path) -> Command {
    let mut c = Command::new(require_tool(
        "astro",
        "Astro (pinned in package.json: npm ci)",
    ));
    c.args(["build", "--silent"])
        .current_dir(dir)
        .env("ASTRO_TELEMETRY_DISABLED", "1");
    c
}

const ASTRO: Host = Host {
    name: "astro",
    build: astro,
    output: "dist",
};

const ELEVENTY: Host = Host {
    name: "eleventy",
    build: eleventy,
    output: "_site",
};

/// A copy of the fixture in a temporary folder (the build writes into it).
fn fixture(host: &Host) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let from = repo_root().join("tests/fixtures/hosts").join(host.name);
    for entry in walkdir::WalkDir::new(&from)
        .into_iter()
        .filter_map(Result::ok)
    {
        let rel = entry.path().strip_prefix(&from).unwrap();
        let first = rel.components().next().map(|c| c.as_os_str().to_owned());
        if first.is_some_and(|f| f == "node_modules" || f == ".astro" || f == host.output) {
            continue;
        }
        let dest = dir.path().join(rel);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
        } else {
            std::fs::copy(entry.path(), &dest).unwrap();
        }
    }
    // Astro's config imports `astro/config`: the pinned packages of this repository.
    std::os::unix::fs::symlink(
        repo_root().join("node_modules"),
        dir.path().join("node_modules"),
    )
    .unwrap();
    dir
}

fn ok(what: &str, cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn pp(site: &Path, args: &[&str]) -> std::process::Output {
    support::run(&site.join("partners-site"), args)
}

/// The recipe of the docs: partner data for host templates, host build, partner build.
fn recipe(host: &Host, dir: &Path) {
    let data = pp(dir, &["build", "--data-only"]);
    assert!(
        data.status.success(),
        "{}",
        String::from_utf8_lossy(&data.stderr)
    );
    ok(&format!("{} build", host.name), &mut (host.build)(dir));
    let built = pp(dir, &["build"]);
    assert!(
        built.status.success(),
        "partner-pages build failed:\n{}",
        String::from_utf8_lossy(&built.stderr)
    );
}

/// A process group killed on drop.
struct Proc(Option<Child>, PathBuf);

impl Proc {
    fn spawn(mut cmd: Command, log: PathBuf) -> Proc {
        let file = std::fs::File::create(&log).unwrap();
        cmd.stdin(Stdio::null())
            .stdout(file.try_clone().unwrap())
            .stderr(file);
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        Proc(Some(cmd.spawn().expect("spawn")), log)
    }
    fn log(&self) -> String {
        std::fs::read_to_string(&self.1).unwrap_or_default()
    }
    /// Wait until `GET path` on `port` answers `status`.
    fn wait(&mut self, port: u16, path: &str, status: u16) {
        let start = Instant::now();
        while start.elapsed() < READY_WITHIN {
            if let Some(Ok(Some(st))) = self.0.as_mut().map(|c| c.try_wait()) {
                panic!("process exited with {st}:\n{}", self.log());
            }
            if try_http(port, "GET", path, &[], b"").is_ok_and(|r| r.status == status) {
                return;
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        panic!("GET {path} never answered {status}:\n{}", self.log());
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let group = format!("-{}", child.id());
            let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
            let until = Instant::now() + Duration::from_secs(10);
            while Instant::now() < until {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
            let _ = child.wait();
        }
    }
}

fn wrangler_cmd(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(require_tool(
        "wrangler",
        "wrangler (pinned in package.json) runs the Worker in workerd with local D1",
    ));
    c.args(args)
        .arg("--persist-to")
        .arg(dir.join("d1-state"))
        .current_dir(dir.join("partners-site/collector"))
        .env("WRANGLER_SEND_METRICS", "false")
        .env("CI", "true")
        .env("NO_COLOR", "1");
    c
}

/// `wrangler dev` on the generated collector (migrated local D1), plus `extra` arguments.
fn worker(dir: &Path, extra: &[&str]) -> (Proc, u16) {
    ok(
        "wrangler d1 migrations apply",
        &mut wrangler_cmd(
            dir,
            &["d1", "migrations", "apply", "partner-events", "--local"],
        ),
    );
    let port = free_port();
    let (p, i) = (port.to_string(), free_port().to_string());
    let mut args = vec![
        "dev",
        "--ip",
        "127.0.0.1",
        "--port",
        &p,
        "--inspector-port",
        &i,
        "--show-interactive-dev-session=false",
    ];
    args.extend_from_slice(extra);
    let mut proc = Proc::spawn(wrangler_cmd(dir, &args), dir.join("wrangler-dev.log"));
    // A 404 for an unknown partner: the Worker itself answers.
    proc.wait(port, "/partners/go/readiness-probe", 404);
    (proc, port)
}

fn rows(dir: &Path) -> Vec<Value> {
    let out = ok(
        "wrangler d1 execute",
        &mut wrangler_cmd(
            dir,
            &[
                "d1",
                "execute",
                "partner-events",
                "--local",
                "--json",
                "--command",
                "SELECT partner_code, event_name, page_path, visitor_id FROM partner_events ORDER BY created_at, id",
            ],
        ),
    );
    let v: Value = serde_json::from_str(&out).expect("wrangler prints JSON");
    v[0]["results"].as_array().cloned().unwrap_or_default()
}

/// Chromium through the host site on `port`; returns what `tests/browser/host.mjs` saw. A failed
/// walk shows the logs of the servers behind `port` next to what the browser saw.
fn walk(port: u16, servers: &[&Proc]) -> Value {
    let node = require_tool("node", "Node.js runs the Chromium driver (playwright-core)");
    let out = Command::new(node)
        .arg(repo_root().join("tests/browser/host.mjs"))
        .args(["--base", &format!("http://127.0.0.1:{port}")])
        .args(["--prefix", "/partners", "--partner", "acme"])
        .args(["--header", "#site-header", "--stylesheet", "/css/site.css"])
        .args(["--activation", "/pricing/"])
        .current_dir(repo_root())
        .output()
        .unwrap_or_else(|e| panic!("tests/browser/host.mjs: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        let logs: Vec<String> = servers
            .iter()
            .map(|p| format!("--- {}\n{}", p.1.display(), p.log()))
            .collect();
        panic!(
            "tests/browser/host.mjs failed ({}):\n{stdout}{}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr),
            logs.join("\n")
        );
    }
    serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("host.mjs printed no JSON ({e}): {stdout}"))
}

/// What the walk and the D1 rows must show, whatever the mode. The rows are read once the
/// Worker has stopped: `wrangler d1 execute --local` opens the same SQLite file in a second
/// workerd, and while `wrangler dev` holds it the read can fail with SQLITE_BUSY.
fn assert_walk(seen: &Value, dir: &Path, worker: Proc) {
    assert_eq!(seen["landing_status"], 200, "{seen}");
    assert_eq!(
        seen["header"], true,
        "the host's header is on the page: {seen}"
    );
    assert_eq!(
        seen["stylesheet_status"], 200,
        "the host's stylesheet loads: {seen}"
    );
    for stage in ["lead_magnet", "cta"] {
        assert_eq!(seen["targets"][stage][1], 200, "{stage} target: {seen}");
    }
    assert_eq!(seen["activation_status"], 200, "{seen}");
    assert_eq!(seen["page_errors"], serde_json::json!([]), "{seen}");
    // Every beacon was answered 204 once its row was stored; the click row is written after the
    // redirect, long before the walk's last beacon. Stopping the Worker ends its writes.
    drop(worker);
    let got = rows(dir);
    let events: Vec<&str> = got
        .iter()
        .map(|r| r["event_name"].as_str().unwrap())
        .collect();
    assert_eq!(
        events,
        ["click", "visit", "lead_magnet", "cta", "activation"],
        "{got:#?}"
    );
    let visitors: std::collections::BTreeSet<&str> = got
        .iter()
        .map(|r| r["visitor_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        visitors.len(),
        1,
        "one visitor id for the journey: {got:#?}"
    );
    assert!(got.iter().all(|r| r["partner_code"] == "acme"), "{got:#?}");
}

/// No path of the machine that built it in the generated collector.
fn assert_portable_collector(host: &Host, dir: &Path) {
    let collector = dir.join("partners-site/collector");
    let needles = [
        dir.to_string_lossy().into_owned(),
        dir.canonicalize().unwrap().to_string_lossy().into_owned(),
        repo_root().to_string_lossy().into_owned(),
    ];
    for entry in walkdir::WalkDir::new(&collector)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
    {
        if entry
            .path()
            .components()
            .any(|c| c.as_os_str() == ".wrangler")
        {
            continue; // wrangler's own local state, not ours
        }
        let text = String::from_utf8_lossy(&std::fs::read(entry.path()).unwrap()).into_owned();
        for n in &needles {
            assert!(
                !text.contains(n.as_str()),
                "{} holds {n}",
                entry.path().display()
            );
        }
    }
    let toml = support::read(collector.join("wrangler.toml"));
    let want = format!("directory = \"../../{}\"", host.output);
    assert!(toml.contains(&want), "{toml}");
}

fn assets_mode(host: &Host) {
    let site = fixture(host);
    let dir = site.path();
    recipe(host, dir);
    let out = dir.join(host.output);
    let landing = support::read(out.join("partners/p/acme/index.html"));
    assert!(landing.contains("id=\"site-header\""), "{landing}");
    assert!(landing.contains("href=\"/css/site.css\""), "{landing}");
    assert!(
        landing.contains("<h1>Launch without the guesswork</h1>"),
        "{landing}"
    );
    assert!(
        landing.contains("<link rel=\"canonical\" href=\"https://example.com/partners/p/acme/\">"),
        "{landing}"
    );
    assert!(
        landing.contains("href=\"/demo/\""),
        "host paths keep no prefix: {landing}"
    );
    let home = support::read(out.join("index.html"));
    assert!(
        home.contains("<a href=\"/partners/p/acme/\">Acme newsletter</a>"),
        "the host template lists the partners from the data file: {home}"
    );
    assert_portable_collector(host, dir);
    let (running, port) = worker(dir, &[]);
    let go = try_http(port, "GET", "/partners/go/acme", &[], b"").unwrap();
    assert_eq!(go.status, 302);
    assert_eq!(go.header_all("location"), ["/partners/p/acme/"]);
    assert_eq!(
        try_http(port, "GET", "/about/", &[], b"").unwrap().status,
        200
    );
    let seen = walk(port, &[&running]);
    assert_walk(&seen, dir, running);
    // On the same site (one host build less per host): links and host rebuilds.
    links_and_rebuilds(host, dir);
}

fn route_mode(host: &Host) {
    let site = fixture(host);
    let dir = site.path();
    let config = dir.join("partners-site/partner-pages.yaml");
    let text = support::read(&config);
    std::fs::write(
        &config,
        format!("{text}collector: {{ mode: route, route: \"example.com/partners/go/*\" }}\n"),
    )
    .unwrap();
    recipe(host, dir);
    let toml = support::read(dir.join("partners-site/collector/wrangler.toml"));
    assert!(!toml.contains("[assets]"), "{toml}");
    assert!(
        toml.contains("routes = [\"example.com/partners/go/*\", \"example.com/e\", \"example.com/partners/s\"]"),
        "{toml}"
    );
    assert_portable_collector_route(dir);
    // The host on a plain static server; the Worker in front of it, as a route does.
    let python = require_tool(
        "python3",
        "Python serves the host output as a plain static server",
    );
    let origin = free_port();
    let mut server = Command::new(python);
    // HTTP/1.1, as an origin speaks: persistent connections. Python's default, HTTP/1.0, closes
    // each connection after its response without saying so, while workerd's fetch keeps the
    // connection for the next request; a request written onto it before Python's thread closes
    // it (a busy machine deschedules that thread) is lost, and the Worker answers 500
    // "Network connection lost" for a host page or a host page's pp-beacon.js.
    server
        .args([
            "-m",
            "http.server",
            "--protocol",
            "HTTP/1.1",
            "--bind",
            "127.0.0.1",
            &origin.to_string(),
        ])
        .arg("--directory")
        .arg(dir.join(host.output));
    let mut static_server = Proc::spawn(server, dir.join("static-server.log"));
    static_server.wait(origin, "/about/", 200);
    let upstream = format!("127.0.0.1:{origin}");
    let (running, port) = worker(dir, &["--local-upstream", &upstream]);
    let seen = walk(port, &[&running, &static_server]);
    assert_walk(&seen, dir, running);
}

fn assert_portable_collector_route(dir: &Path) {
    let toml = support::read(dir.join("partners-site/collector/wrangler.toml"));
    assert!(!toml.contains(&*dir.to_string_lossy()), "{toml}");
}

/// The checks of a built host fixture that need no Worker: broken links, idempotent host
/// rebuilds.
fn links_and_rebuilds(host: &Host, dir: &Path) {
    let out = dir.join(host.output);
    let llms = support::read(out.join("llms.txt"));
    assert!(llms.starts_with("# Example\n"), "{llms}");
    assert!(llms.contains("/partners/p/acme/"), "{llms}");
    // The host rebuilds (its llms.txt comes back without our section), then we do: same bytes.
    ok("host rebuild", &mut (host.build)(dir));
    recipe(host, dir);
    assert_eq!(support::read(out.join("llms.txt")), llms);
    for sitemap in [out.join("sitemap.xml"), out.join("partners/sitemap.xml")] {
        if !sitemap.exists() {
            continue;
        }
        let python = require_tool("python3", "Python parses the sitemaps");
        ok(
            &format!("parse {}", sitemap.display()),
            Command::new(python)
                .args(["-c", "import sys, xml.etree.ElementTree as E; r = E.parse(sys.argv[1]).getroot(); assert r.tag.endswith('urlset') or r.tag.endswith('sitemapindex'), r.tag; assert len(r) > 0"])
                .arg(&sitemap),
        );
    }
    let pp_sitemap = support::read(out.join("partners/sitemap.xml"));
    assert!(
        pp_sitemap.contains("https://example.com/partners/p/acme/"),
        "{pp_sitemap}"
    );
    let good = pp(dir, &["check", "--links"]);
    assert!(
        good.status.success(),
        "{}",
        String::from_utf8_lossy(&good.stderr)
    );
    assert!(String::from_utf8_lossy(&good.stdout).contains("every link has a target"));
    // A misspelt CTA: check --links and build fail at the partner file's line.
    let partner = dir.join("partners-site/partners/acme.yaml");
    let text = support::read(&partner);
    std::fs::write(&partner, text.replace("url: /demo/", "url: /demoo/")).unwrap();
    for args in [&["check", "--links"][..], &["build"][..]] {
        let run = pp(dir, args);
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(
            stderr.contains("partners/acme.yaml:10:45")
                && stderr.contains("did you mean `/demo/`?"),
            "{args:?}: {stderr}"
        );
    }
}

#[test]
fn hugo_site_in_assets_mode_walks_the_funnel_through_one_worker_then_checks_links_and_rebuilds() {
    assets_mode(&HUGO);
}

#[test]
fn hugo_site_in_route_mode_walks_the_funnel_with_the_host_on_a_static_server() {
    route_mode(&HUGO);
}

#[test]
fn eleventy_site_in_assets_mode_walks_the_funnel_through_one_worker_then_checks_links_and_rebuilds()
{
    assets_mode(&ELEVENTY);
}

#[test]
fn eleventy_site_in_route_mode_walks_the_funnel_with_the_host_on_a_static_server() {
    route_mode(&ELEVENTY);
}

#[test]
fn astro_site_in_assets_mode_walks_the_funnel_through_one_worker_then_checks_links_and_rebuilds() {
    assets_mode(&ASTRO);
}

#[test]
fn astro_site_in_route_mode_walks_the_funnel_with_the_host_on_a_static_server() {
    route_mode(&ASTRO);
}

/// `serve` in a host site: the host output at `/`, the partner pages at their prefix, the local
/// collector's routes; a change of a partner file or of the shell page (a host rebuild)
/// rebuilds the partner pages.
#[test]
fn serve_mounts_the_partner_pages_in_the_host_output_and_follows_host_rebuilds() {
    let site = fixture(&HUGO);
    let dir = site.path();
    recipe(&HUGO, dir);
    let port = free_port();
    let mut cmd = Command::new(support::bin());
    cmd.arg("--root")
        .arg(dir.join("partners-site"))
        .args(["serve", "--port", &port.to_string(), "--db", "events.db"])
        .env_remove("PARTNER_PAGES_ROOT");
    let mut serve = Proc::spawn(cmd, dir.join("serve.log"));
    serve.wait(port, "/partners/p/acme/", 200);
    let get = |path: &str| try_http(port, "GET", path, &[], b"").unwrap();
    assert_eq!(get("/about/").status, 200, "a host page");
    assert_eq!(get("/css/site.css").status, 200, "a host asset");
    assert_eq!(get("/demo/").status, 200, "the CTA target on the host");
    let go = get("/partners/go/acme");
    assert_eq!(go.status, 302);
    assert_eq!(go.header_all("location"), ["/partners/p/acme/"]);
    let page = |path: &str| {
        let r = Command::new("curl")
            .args(["-s", &format!("http://127.0.0.1:{port}{path}")])
            .output()
            .unwrap();
        String::from_utf8_lossy(&r.stdout).into_owned()
    };
    assert!(page("/partners/p/acme/").contains("id=\"site-header\""));
    let until = |what: &str, f: &dyn Fn() -> bool| {
        let start = Instant::now();
        while !f() {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "{what}:\n{}",
                serve.log()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    };
    // A partner file edited: rebuilt.
    let partner = dir.join("partners-site/partners/acme.yaml");
    let text = support::read(&partner);
    std::fs::write(
        &partner,
        text.replace("Launch without the guesswork", "Launch with a plan"),
    )
    .unwrap();
    until("the edited headline is served", &|| {
        page("/partners/p/acme/").contains("Launch with a plan")
    });
    // The host rebuilt its shell page (new header): the partner pages follow.
    let shell = dir.join("public/about/index.html");
    let html = support::read(&shell);
    std::fs::write(
        &shell,
        html.replace("id=\"site-header\"", "id=\"site-header\" data-v=\"2\""),
    )
    .unwrap();
    until("the new shell is served", &|| {
        page("/partners/p/acme/").contains("data-v=\"2\"")
    });
}
