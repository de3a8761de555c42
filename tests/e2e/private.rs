//! No hosted kit path in anything the Worker or a static origin gives out: the public output of
//! a site in a host output, fetched file by file over HTTP from `wrangler dev` (mode `assets`,
//! with the host's own `.assetsignore`) and from a plain static server behind it (mode `route`).

use crate::support::{self, kit_token, read, KIT_SECRET_A};
use crate::tools::require_tool;
use crate::worker::{free_port, try_http};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CODES: [&str; 4] = [
    "ai-tools-directory",
    "founder-community",
    "nocode-agency",
    "seo-consultant",
];

/// A process in its own group, ended (with its children) on drop.
struct Proc {
    child: Child,
    log: PathBuf,
}

impl Proc {
    fn spawn(mut cmd: Command, log: PathBuf) -> Proc {
        let file = std::fs::File::create(&log).unwrap();
        cmd.stdin(Stdio::null())
            .stdout(file.try_clone().unwrap())
            .stderr(file);
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        Proc {
            child: cmd.spawn().expect("spawn"),
            log,
        }
    }

    /// Until `path` answers `status` on `port` (bounded; a busy 2-core machine is slow).
    fn wait(&mut self, port: u16, path: &str, status: u16) {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(120) {
            if let Ok(Some(s)) = self.child.try_wait() {
                panic!("exited with {s}:\n{}", read(&self.log));
            }
            if try_http(port, "GET", path, &[], b"").is_ok_and(|r| r.status == status) {
                return;
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        panic!("{path} never answered {status}:\n{}", read(&self.log));
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        let until = Instant::now() + Duration::from_secs(10);
        while Instant::now() < until && !matches!(self.child.try_wait(), Ok(Some(_))) {
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.child.wait();
    }
}

/// The example site in plugin mode: its pages under `/partners/` of a host output
/// (`host-public/`, a host page and the host's own `.assetsignore` as wrangler's autoconfig
/// writes it), kits hosted, built. Returns the site and the build's stderr.
fn plugin_site(mode: &str) -> (tempfile::TempDir, String) {
    let site = support::copy_site(&support::example_site());
    let root = site.path();
    let config = root.join("partner-pages.yaml");
    let text = read(&config).replacen(
        "base_url: https://aikit.example",
        "base_url: https://aikit.example/partners",
        1,
    );
    let mode = match mode {
        "route" => "route\n  route: \"aikit.example/partners/go/*\"",
        m => m,
    };
    let text = text.replacen("  mode: assets\n", &format!("  mode: {mode}\n"), 1);
    std::fs::write(
        &config,
        format!("{text}host:\n  output: host-public\nkits:\n  hosted: true\n"),
    )
    .unwrap();
    let host = root.join("host-public");
    std::fs::create_dir_all(host.join("about")).unwrap();
    std::fs::write(
        host.join("index.html"),
        "<!doctype html><title>Host</title><p>Host home</p>",
    )
    .unwrap();
    std::fs::write(
        host.join("about/index.html"),
        "<!doctype html><title>About</title><p>About</p>",
    )
    .unwrap();
    std::fs::write(host.join(".assetsignore"), "_worker.js\n_routes.json\n").unwrap();
    let out = Command::new(support::bin())
        .arg("--root")
        .arg(root)
        .args(["build", "--no-link-check"])
        .env_remove("PARTNER_PAGES_ROOT")
        .env("PARTNER_PAGES_KIT_SECRET", KIT_SECRET_A)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    (site, stderr)
}

fn wrangler(root: &Path, extra: &[&str]) -> (Proc, u16) {
    let wrangler = require_tool(
        "wrangler",
        "wrangler (pinned in package.json) runs the Worker",
    );
    let port = free_port();
    let (p, i) = (port.to_string(), free_port().to_string());
    let mut cmd = Command::new(wrangler);
    cmd.args([
        "dev",
        "--ip",
        "127.0.0.1",
        "--port",
        &p,
        "--inspector-port",
        &i,
    ])
    .arg("--show-interactive-dev-session=false")
    .args(extra)
    .arg("--persist-to")
    .arg(root.join("d1-state"))
    .current_dir(root.join("collector"))
    .env("WRANGLER_SEND_METRICS", "false")
    .env("CI", "true")
    .env("NO_COLOR", "1");
    let mut proc = Proc::spawn(cmd, root.join("wrangler-dev.log"));
    // A 404 for an unknown partner: the Worker itself answers.
    proc.wait(port, "/partners/go/readiness-probe", 404);
    (proc, port)
}

/// GET every file of `host` and the folders of the partner output through `port`: no answer
/// names a kit token, except each hosted kit's own page (its canonical URL). Returns how many
/// kit pages answered 200 with their partner's kit.
fn fetch_everything(host: &Path, port: u16, log: &Path) -> usize {
    let tokens: Vec<String> = CODES.iter().map(|c| kit_token(KIT_SECRET_A, c)).collect();
    let mut paths: Vec<String> = walkdir::WalkDir::new(host)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let rel = e.path().strip_prefix(host).unwrap().to_string_lossy();
            // The Worker redirects `.../index.html` to its folder: ask for the folder.
            format!("/{}", rel.strip_suffix("index.html").unwrap_or(&rel))
        })
        .collect();
    assert!(paths
        .iter()
        .any(|p| p == "/partners/.partner-pages-manifest"));
    // Folders too: a static origin may list them.
    paths.extend(["/partners/", "/partners/kits/", "/partners/p/"].map(String::from));
    let mut kits = 0;
    for path in &paths {
        let r = try_http(port, "GET", path, &[], b"")
            .unwrap_or_else(|e| panic!("GET {path}: {e}\n{}", read(log)));
        for t in &tokens {
            if path == &format!("/partners/kits/{t}/") {
                assert_eq!(r.status, 200, "{path}");
                kits += 1;
                continue;
            }
            assert!(
                !r.text().contains(t.as_str()),
                "GET {path} ({}) names the kit token {t}",
                r.status
            );
        }
    }
    kits
}

#[test]
fn no_file_of_the_public_output_names_a_kit_under_wrangler_dev_in_assets_mode() {
    let (site, stderr) = plugin_site("assets");
    // The host's own .assetsignore is left alone, and the build says what it lets through.
    assert_eq!(
        read(site.path().join("host-public/.assetsignore")),
        "_worker.js\n_routes.json\n"
    );
    assert!(
        stderr.contains("warning:") && stderr.contains(".partner-pages-manifest"),
        "{stderr}"
    );
    let (proc, port) = wrangler(site.path(), &[]);
    let kits = fetch_everything(&site.path().join("host-public"), port, &proc.log);
    assert_eq!(
        kits,
        CODES.len(),
        "every hosted kit answers at its secret path"
    );
}

#[test]
fn no_file_of_the_public_output_names_a_kit_behind_a_static_origin_in_route_mode() {
    let (site, _) = plugin_site("route");
    let config = site.path().join("partner-pages.yaml");
    assert!(read(&config).contains("mode: route"));
    let python = require_tool(
        "python3",
        "Python serves the host output as a plain static server",
    );
    let origin = free_port();
    let mut server = Command::new(python);
    server
        .args([
            "-m",
            "http.server",
            "--bind",
            "127.0.0.1",
            &origin.to_string(),
        ])
        .arg("--directory")
        .arg(site.path().join("host-public"));
    let mut static_server = Proc::spawn(server, site.path().join("static-server.log"));
    static_server.wait(origin, "/about/", 200);
    let upstream = format!("127.0.0.1:{origin}");
    let (proc, port) = wrangler(site.path(), &["--local-upstream", &upstream]);
    let kits = fetch_everything(&site.path().join("host-public"), port, &proc.log);
    assert_eq!(
        kits,
        CODES.len(),
        "every hosted kit answers at its secret path"
    );
}

#[test]
fn a_symlink_in_the_host_output_is_refused_at_build_so_no_deploy_carries_it() {
    let (site, _) = plugin_site("assets");
    let host = site.path().join("host-public");
    std::os::unix::fs::symlink("/etc/passwd", host.join("passwd")).unwrap();
    let out = Command::new(support::bin())
        .arg("--root")
        .arg(site.path())
        .args(["build", "--no-link-check"])
        .env_remove("PARTNER_PAGES_ROOT")
        .env("PARTNER_PAGES_KIT_SECRET", KIT_SECRET_A)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("passwd is a symbolic link"), "{stderr}");
    // What the host output held before is there, unchanged; nothing was published.
    assert!(!site
        .path()
        .join("host-public/partners/.partner-pages-writing")
        .exists());
}
