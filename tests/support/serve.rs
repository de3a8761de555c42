//! Helpers shared by the plain and the e2e tests of `serve`.
//! `partner-pages serve`: a real server process, a real SQLite file, raw HTTP over loopback.

use crate::support;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub(crate) const BROWSER_UA: &str =
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36";
pub(crate) const SECRET: &str = "test-signing-secret";

/// A running `serve` on a copy of the example site; killed on drop.
pub(crate) struct Serve {
    pub(crate) child: Child,
    pub(crate) addr: SocketAddr,
    pub(crate) site: tempfile::TempDir,
    pub(crate) db: PathBuf,
    pub(crate) out: PathBuf,
    pub(crate) stderr: PathBuf,
}

impl Serve {
    /// `serve --port 0` with a secret file, extra flags appended.
    pub(crate) fn start(extra: &[&str]) -> Serve {
        let site = support::copy_site(&support::example_site());
        Self::start_in(site, extra, true)
    }

    pub(crate) fn start_in(site: tempfile::TempDir, extra: &[&str], with_secret: bool) -> Serve {
        let db = site.path().join("events.db");
        Self::spawn(site, extra, with_secret, db.as_os_str(), None)
    }

    /// As [`Serve::start_in`] with the `/s` secret, and `PP_VARIANT_SECRET` set to `key`.
    pub(crate) fn start_with_variant_key(site: tempfile::TempDir, key: &str) -> Serve {
        let db = site.path().join("events.db");
        Self::spawn_env(
            site,
            &["--no-watch"],
            true,
            db.as_os_str(),
            None,
            &[("PP_VARIANT_SECRET", key)],
        )
    }

    /// `serve` with `--db <db_arg>` as given (possibly relative), started in `cwd`.
    pub(crate) fn spawn(
        site: tempfile::TempDir,
        extra: &[&str],
        with_secret: bool,
        db_arg: &std::ffi::OsStr,
        cwd: Option<&std::path::Path>,
    ) -> Serve {
        Self::spawn_env(site, extra, with_secret, db_arg, cwd, &[])
    }

    /// As [`Serve::spawn`], with these environment variables set.
    fn spawn_env(
        site: tempfile::TempDir,
        extra: &[&str],
        with_secret: bool,
        db_arg: &std::ffi::OsStr,
        cwd: Option<&std::path::Path>,
        env: &[(&str, &str)],
    ) -> Serve {
        let db = site.path().join(db_arg);
        let out = site.path().join("public");
        let stderr = site.path().join("serve.stderr");
        let secret = site.path().join("secret.txt");
        std::fs::write(&secret, format!("{SECRET}\n")).unwrap();
        let mut cmd = Command::new(support::bin());
        cmd.arg("--root")
            .arg(site.path())
            .args(["serve", "--port", "0", "--db"])
            .arg(db_arg)
            .args(extra)
            .env_remove("PARTNER_PAGES_ROOT")
            .env_remove("PP_SIGNING_SECRET")
            .env_remove("PP_VARIANT_SECRET")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr).unwrap());
        if with_secret {
            cmd.arg("--secret-file").arg(&secret);
        }
        if let Some(cwd) = cwd {
            cmd.current_dir(cwd);
        }
        let mut child = cmd.spawn().expect("start partner-pages serve");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("Serving ") {
                    let _ = tx.send(url.to_string());
                }
            }
        });
        let url = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(url) => url,
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "serve printed no URL; stderr:\n{}",
                    std::fs::read_to_string(&stderr).unwrap_or_default()
                );
            }
        };
        let host_port = url
            .strip_prefix("http://")
            .and_then(|r| r.split('/').next())
            .expect("URL shape http://host:port/");
        Serve {
            child,
            addr: host_port.parse().expect("socket address"),
            site,
            db,
            out,
            stderr,
        }
    }

    pub(crate) fn get(&self, path: &str, headers: &[(&str, &str)]) -> Resp {
        self.send("GET", path, headers, b"")
    }

    pub(crate) fn beacon(&self, body: &str, headers: &[(&str, &str)]) -> Resp {
        let mut h = vec![("Content-Type", "text/plain")];
        if !headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("user-agent"))
        {
            h.push(("User-Agent", BROWSER_UA));
        }
        h.extend_from_slice(headers);
        self.send("POST", "/e", &h, body.as_bytes())
    }

    /// `POST /s` signed with the test secret at `ts` (unix seconds).
    pub(crate) fn server_event(&self, body: &str, ts: i64) -> Resp {
        let sig = partner_pages::collector::requests::sign(SECRET.as_bytes(), ts, body.as_bytes());
        let ts = ts.to_string();
        self.send(
            "POST",
            "/s",
            &[("X-PP-Timestamp", &ts), ("X-PP-Signature", &sig)],
            body.as_bytes(),
        )
    }

    pub(crate) fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Resp {
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n",
            self.addr,
            body.len()
        );
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        let mut s = TcpStream::connect(self.addr).expect("connect to serve");
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        s.write_all(head.as_bytes()).unwrap();
        s.write_all(body).unwrap();
        let mut raw = Vec::new();
        let _ = s.read_to_end(&mut raw);
        Resp::parse(&raw)
    }

    pub(crate) fn rows(&self) -> Vec<Row> {
        let conn = rusqlite::Connection::open(&self.db).unwrap();
        let mut stmt = conn
            .prepare(
                "SELECT id, partner_code, campaign, event_name, page_path, visitor_id, created_at, \
                 value, user_id FROM partner_events ORDER BY created_at, rowid",
            )
            .unwrap();
        stmt.query_map([], |r| {
            Ok(Row {
                id: r.get(0)?,
                partner: r.get(1)?,
                campaign: r.get(2)?,
                stage: r.get(3)?,
                page_path: r.get(4)?,
                visitor_id: r.get(5)?,
                created_at: r.get(6)?,
                value: r.get(7)?,
                user_id: r.get(8)?,
            })
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
    }

    pub(crate) fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Debug)]
#[allow(dead_code)]
pub(crate) struct Row {
    pub(crate) id: String,
    pub(crate) partner: String,
    pub(crate) campaign: String,
    pub(crate) stage: String,
    pub(crate) page_path: String,
    pub(crate) visitor_id: Option<String>,
    pub(crate) created_at: String,
    pub(crate) value: Option<f64>,
    pub(crate) user_id: Option<String>,
}

#[derive(Debug)]
pub(crate) struct Resp {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Resp {
    pub(crate) fn parse(raw: &[u8]) -> Resp {
        let split = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .unwrap_or_else(|| panic!("no HTTP head in {:?}", String::from_utf8_lossy(raw)));
        let head = String::from_utf8_lossy(&raw[..split]).to_string();
        let mut lines = head.split("\r\n");
        let status = lines
            .next()
            .and_then(|l| l.split(' ').nth(1))
            .and_then(|s| s.parse().ok())
            .expect("status line");
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        let mut body = raw[split + 4..].to_vec();
        if headers
            .iter()
            .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"))
        {
            body = dechunk(&body);
        }
        Resp {
            status,
            headers,
            body,
        }
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).to_string()
    }

    /// `name=value` pairs of the Set-Cookie headers, for the next request's Cookie header.
    pub(crate) fn cookie_header(&self) -> String {
        self.all("set-cookie")
            .iter()
            .map(|c| c.split(';').next().unwrap_or(""))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

pub(crate) fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(eol) = b.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size =
            usize::from_str_radix(String::from_utf8_lossy(&b[..eol]).trim(), 16).unwrap_or(0);
        if size == 0 || b.len() < eol + 2 + size {
            return out;
        }
        out.extend_from_slice(&b[eol + 2..eol + 2 + size]);
        b = &b[(eol + 4 + size).min(b.len())..];
    }
}

pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}
