//! Benchmark input: a deterministic `partner_events` table of N rows with a realistic mix.
//!
//! ```text
//! cargo run --release --example gen-events -- --rows 10000000 --out /tmp/events-10m.db
//! ```
//!
//! The example site's four partners with different funnels, campaigns, reloads, out-of-order
//! stages, returning visitors touched by a second partner, rows without a visitor id, unknown
//! partner codes, a few bots, 5% of timestamps in SQLite's format, and revenue. Rows are
//! inserted in about the order a collector would write them (by time), with time-ordered
//! (UUIDv7-like) ids so the bulk insert stays fast. Not a test; used by `scripts/bench-report`.

use rusqlite::{params, Connection};

/// splitmix64: a tiny PRNG whose output never changes with crate versions.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn uuid4(&mut self) -> String {
        let (a, b) = (self.next(), self.next());
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            0x8000 | (b >> 48) & 0x3fff,
            b & 0xffff_ffff_ffff
        )
    }
}

struct Profile {
    code: &'static str,
    weight: f64,
    campaigns: &'static [&'static str],
    visit: f64,
    lead_magnet: f64,
    cta: f64,
    activation: f64,
}

const PROFILES: [Profile; 4] = [
    Profile {
        code: "nocode-agency",
        weight: 0.45,
        campaigns: &["default", "agency-webinar"],
        visit: 0.85,
        lead_magnet: 0.05,
        cta: 0.02,
        activation: 0.005,
    },
    Profile {
        code: "seo-consultant",
        weight: 0.30,
        campaigns: &["default", "webinar-dec", "newsletter-jan"],
        visit: 0.9,
        lead_magnet: 0.28,
        cta: 0.08,
        activation: 0.02,
    },
    Profile {
        code: "ai-tools-directory",
        weight: 0.15,
        campaigns: &["default"],
        visit: 0.8,
        lead_magnet: 0.2,
        cta: 0.05,
        activation: 0.01,
    },
    Profile {
        code: "founder-community",
        weight: 0.10,
        campaigns: &["default", "cost-guide"],
        visit: 0.9,
        lead_magnet: 0.3,
        cta: 0.12,
        activation: 0.06,
    },
];

fn ts(ms: i64, sqlite_format: bool) -> String {
    let t = partner_pages::events::Ts(ms).to_string(); // 2026-11-17T10:00:00.000Z
    if sqlite_format {
        format!("{} {}", &t[..10], &t[11..19])
    } else {
        t
    }
}

/// Writes rows with time-ordered ids and the paths a collector would store.
struct Writer<'a, 'c> {
    ins: &'a mut rusqlite::Statement<'c>,
    seq: u64,
    written: u64,
    end_ms: i64,
}

impl Writer<'_, '_> {
    #[allow(clippy::too_many_arguments)]
    fn row(
        &mut self,
        rng: &mut Rng,
        code: &str,
        campaign: &str,
        event: &str,
        vid: Option<&str>,
        at: i64,
        value: Option<f64>,
        user: Option<&str>,
    ) -> rusqlite::Result<()> {
        self.seq += 1;
        let seq = self.seq;
        let at = at.min(self.end_ms - 1);
        // UUIDv7-like: time first, so ids arrive in about index order.
        let id = format!(
            "{:08x}-{:04x}-7{:03x}-{:04x}-{:012x}",
            (at as u64) >> 16,
            (at as u64) & 0xffff,
            seq & 0xfff,
            0x8000 | (seq >> 12) & 0x3fff,
            rng.next() & 0xffff_ffff_ffff
        );
        let path = match event {
            "click" => format!("/go/{code}"),
            "lead_magnet" => "/downloads/guide.pdf".to_string(),
            "cta" => "/demo".to_string(),
            _ => format!("/p/{code}/"),
        };
        let sqlite_format = rng.chance(0.05);
        self.ins.execute(params![
            id,
            code,
            campaign,
            event,
            path,
            vid,
            ts(at, sqlite_format),
            value,
            user
        ])?;
        self.written += 1;
        Ok(())
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut rows_wanted: u64 = 1_000_000;
    let mut out = String::from("events.db");
    let mut end = String::from("2026-11-24T00:00:00Z");
    let mut days: i64 = 7;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let v = args.next().ok_or("every flag takes a value")?;
        match a.as_str() {
            "--rows" => rows_wanted = v.parse()?,
            "--out" => out = v,
            "--end" => end = v,
            "--days" => days = v.parse()?,
            _ => {
                return Err(format!(
                    "unknown flag {a}; flags: --rows N --out FILE --end TS --days N"
                )
                .into())
            }
        }
    }
    let end_ms = partner_pages::events::Ts::parse(&end)
        .ok_or("--end: not a time")?
        .0;
    let span_ms = days * 86_400_000;
    let start_ms = end_ms - span_ms;
    let _ = std::fs::remove_file(&out);
    let mut conn = Connection::open(&out)?;
    conn.execute_batch(
        "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-262144; PRAGMA locking_mode=EXCLUSIVE;
         CREATE TABLE partner_events (id TEXT PRIMARY KEY, partner_code TEXT NOT NULL,
           campaign TEXT NOT NULL, event_name TEXT NOT NULL, page_path TEXT NOT NULL,
           visitor_id TEXT, created_at TEXT NOT NULL, value REAL, user_id TEXT);",
    )?;
    let mut rng = Rng(0x5EED_2026);
    // About 2.6 rows per visitor: spread visitors evenly over the span, in time order.
    let visitors_est = (rows_wanted as f64 / 2.6).max(1.0);
    let step = span_ms as f64 / visitors_est;
    let written: u64;
    let mut v: u64 = 0;
    let tx = conn.transaction()?;
    {
        let mut ins = tx.prepare(
            "INSERT INTO partner_events (id, partner_code, campaign, event_name, page_path, visitor_id, created_at, value, user_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?;
        let mut w = Writer {
            ins: &mut ins,
            seq: 0,
            written: 0,
            end_ms,
        };
        while w.written < rows_wanted {
            v += 1;
            let t0 = start_ms + (v as f64 * step) as i64 + rng.below(60_000) as i64;
            if t0 >= end_ms {
                break;
            }
            let mut pick = rng.unit();
            let p = PROFILES
                .iter()
                .find(|p| {
                    pick -= p.weight;
                    pick < 0.0
                })
                .unwrap_or(&PROFILES[0]);
            let campaign = if rng.chance(0.7) {
                "default"
            } else {
                p.campaigns[rng.below(p.campaigns.len() as u64) as usize]
            };
            let vid = rng.uuid4();
            if v % 20_000 == 0 {
                // A bot: far more rows than a person makes.
                for k in 0..150 {
                    w.row(
                        &mut rng,
                        p.code,
                        campaign,
                        "visit",
                        Some(&vid),
                        t0 + k * 1000,
                        None,
                        None,
                    )?;
                }
                continue;
            }
            if rng.chance(0.001) {
                w.row(
                    &mut rng,
                    "retired-partner",
                    "default",
                    "visit",
                    Some(&vid),
                    t0,
                    None,
                    None,
                )?;
                continue;
            }
            if rng.chance(0.01) {
                w.row(&mut rng, p.code, campaign, "visit", None, t0, None, None)?;
                continue;
            }
            let mut t = t0;
            if rng.chance(0.03) {
                // Out of order: a server-side activation before any visit (does not count).
                w.row(
                    &mut rng,
                    p.code,
                    campaign,
                    "activation",
                    Some(&vid),
                    t - 5_000,
                    None,
                    None,
                )?;
            }
            if rng.chance(0.9) {
                w.row(
                    &mut rng,
                    p.code,
                    campaign,
                    "click",
                    Some(&vid),
                    t,
                    None,
                    None,
                )?;
                t += 400 + rng.below(1500) as i64;
            }
            if !rng.chance(p.visit) {
                continue;
            }
            w.row(
                &mut rng,
                p.code,
                campaign,
                "visit",
                Some(&vid),
                t,
                None,
                None,
            )?;
            for _ in 0..rng.below(4).saturating_sub(2) + u64::from(rng.chance(0.3)) {
                t += rng.below(600_000) as i64;
                w.row(
                    &mut rng,
                    p.code,
                    campaign,
                    "visit",
                    Some(&vid),
                    t,
                    None,
                    None,
                )?;
            }
            let lm = rng.chance(p.lead_magnet);
            if lm {
                t += 5_000 + rng.below(300_000) as i64;
                w.row(
                    &mut rng,
                    p.code,
                    campaign,
                    "lead_magnet",
                    Some(&vid),
                    t,
                    None,
                    None,
                )?;
            }
            if rng.chance(if lm { p.cta * 2.5 } else { p.cta * 0.6 }) {
                t += 5_000 + rng.below(900_000) as i64;
                w.row(&mut rng, p.code, campaign, "cta", Some(&vid), t, None, None)?;
                if rng.chance(p.activation / p.cta) {
                    t += 60_000 + rng.below(86_400_000) as i64;
                    let user = format!("acct-{}", rng.below(1_000_000));
                    w.row(
                        &mut rng,
                        p.code,
                        campaign,
                        "activation",
                        Some(&vid),
                        t,
                        None,
                        Some(&user),
                    )?;
                    if rng.chance(0.2) {
                        let value = 49.0 + rng.below(200) as f64;
                        w.row(
                            &mut rng,
                            p.code,
                            campaign,
                            "revenue",
                            Some(&vid),
                            t + 3_600_000,
                            Some(value),
                            Some(&user),
                        )?;
                    }
                }
            }
            if rng.chance(0.05) {
                // Comes back later through another partner's link (inside the window).
                let other = &PROFILES[rng.below(4) as usize];
                let later = t + 86_400_000 + rng.below(2 * 86_400_000) as i64;
                w.row(
                    &mut rng,
                    other.code,
                    "default",
                    "click",
                    Some(&vid),
                    later,
                    None,
                    None,
                )?;
                w.row(
                    &mut rng,
                    other.code,
                    "default",
                    "visit",
                    Some(&vid),
                    later + 900,
                    None,
                    None,
                )?;
            }
        }
        written = w.written;
    }
    tx.commit()?;
    eprintln!("{written} rows, {v} visitors; creating the partner_events index");
    conn.execute_batch(
        "CREATE INDEX idx_partner_events_code_time ON partner_events(partner_code, created_at);",
    )?;
    Ok(())
}
