//! Funnel stage, attribution: rows -> first-touch journeys per visitor.
//!
//! Takes: a [`Source`], the partner registry and the report [`Range`]. Gives: each visitor's
//! journeys that start in the range, with the time each stage was first reached (and the rows
//! set apart: unknown partners, no visitor id, bots, ...).
//!
//! How it stays fast and flat: one sequential scan of the source (a large SQLite file is read in
//! rowid ranges by one thread per core); each row is packed (about 33 bytes, a UUID visitor id
//! as a number) into one of [`PARTITIONS`] partitions chosen by a hash of its visitor id, held in
//! memory up to [`SPILL_BYTES`] and beyond that appended to a temporary file. Then each
//! partition in turn is sorted by (visitor, time) and walked: one visitor's rows are always in
//! one partition, so memory is the budget plus one partition, whatever the size of the table.
//! The walk order (partition, then visitor id) does not depend on the row order or the split.

use super::buckets::Piece;
pub(crate) use super::buckets::PARTITIONS;
use super::pack::{self, Packer, Rec, EMPTY_REC};
use super::{FunnelConfig, Range};
use crate::error::{Error, Result};
use crate::events::{PartSink, Row, ScanOptions, Source, Ts};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// Default bytes of packed rows held in memory before the partitions move to a temporary file
/// (a row is about 33 bytes: a few million rows stay in memory).
pub(crate) const SPILL_BYTES: usize = 128 << 20;

/// What a row means to the funnel: its stage (stages sort before revenue, so at equal times a
/// `visit` comes before the `lead_magnet` it enables).
pub use crate::stage::Stage;

pub(crate) const KIND_REVENUE: u8 = 5;
/// A row kept only so the bot rule counts it (unknown partner code or event name).
pub(crate) const KIND_COUNT_ONLY: u8 = 255;

/// The time each stage was first reached in a journey (`None`: not reached).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Reached {
    /// The partner link was clicked.
    pub click: Option<Ts>,
    /// The landing page was viewed.
    pub visit: Option<Ts>,
    /// The lead magnet was taken.
    pub lead_magnet: Option<Ts>,
    /// The CTA was clicked.
    pub cta: Option<Ts>,
    /// The partner's activation happened.
    pub activation: Option<Ts>,
}

impl Reached {
    /// When stage `s` was first reached.
    pub fn get(&self, s: Stage) -> Option<Ts> {
        match s {
            Stage::Click => self.click,
            Stage::Visit => self.visit,
            Stage::LeadMagnet => self.lead_magnet,
            Stage::Cta => self.cta,
            Stage::Activation => self.activation,
        }
    }

    fn slot(&mut self, s: Stage) -> &mut Option<Ts> {
        match s {
            Stage::Click => &mut self.click,
            Stage::Visit => &mut self.visit,
            Stage::LeadMagnet => &mut self.lead_magnet,
            Stage::Cta => &mut self.cta,
            Stage::Activation => &mut self.activation,
        }
    }

    /// The furthest stage reached, if any.
    pub fn last(&self) -> Option<Stage> {
        Stage::ALL
            .into_iter()
            .rev()
            .find(|s| self.get(*s).is_some())
    }
}

/// One visitor's first-touch journey.
///
/// It starts at a `click` or `visit` when no journey is active, lasts the attribution window,
/// and owns every row of the visitor inside it, whatever partner the row names. Only rows
/// before `counted_until` (= min(the range's `as_of`, start + window)) are counted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Journey {
    /// The visitor id.
    pub visitor_id: String,
    /// Partner and campaign of the journey's first row.
    pub partner: String,
    /// The campaign of the journey's first row.
    pub campaign: String,
    /// When the journey started.
    pub start: Ts,
    /// Rows from here on are not counted.
    pub counted_until: Ts,
    /// When each stage was first reached; `lead_magnet`, `cta` and `activation` only count at
    /// or after the first `visit`.
    pub reached: Reached,
    /// The product's opaque user id, when a server-side row of the journey carried one. Never
    /// put it in public output.
    pub user_id: Option<String>,
    /// Sum of the `value` of the journey's `revenue` rows (0 when none).
    pub revenue: f64,
    /// How many `revenue` rows the journey has.
    pub revenue_events: u32,
    /// Rows the journey owns (counted ones).
    pub rows: u32,
}

/// Rows read but not funneled, counted and shown apart. Counts are of rows created in the
/// report range, except `rows_read` (everything the scan handed over).
#[derive(Debug, Clone, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Excluded {
    /// Rows handed over by the source for the read window `[start - window, end)` (coarse).
    pub rows_read: u64,
    /// Rows whose `created_at` is in neither timestamp format.
    pub invalid_time_rows: u64,
    /// Rows of partner codes that are not in `partners/` (code -> rows).
    pub unknown_partner_rows: BTreeMap<String, u64>,
    /// Rows without a visitor id (partner code -> rows); never funneled.
    pub no_visitor_rows: BTreeMap<String, u64>,
    /// Rows whose `event_name` is neither a stage nor `revenue` (name -> rows).
    pub unknown_event_rows: BTreeMap<String, u64>,
    /// Visitor ids with more rows than `bot_max_events` in the rows read: excluded.
    pub bot_visitors: u64,
    /// Rows of those visitors.
    pub bot_rows: u64,
    /// Rows of a known partner that no journey owns (e.g. an activation with no click or visit
    /// before it in the window).
    pub unattributed_rows: u64,
}

/// What happened in the range, whatever the age of the journey it happened in: per stage, the
/// journeys (credited by first touch to their partner) that first reached it in `[start, end)`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Activity {
    /// Partner-link clicks.
    pub clicks: u64,
    /// Landing-page views.
    pub visits: u64,
    /// Lead magnets taken.
    pub lead_magnet: u64,
    /// CTA clicks.
    pub cta: u64,
    /// Activations.
    pub activation: u64,
}

impl Activity {
    /// Add another partner's activity.
    pub fn add(&mut self, o: &Activity) {
        self.clicks += o.clicks;
        self.visits += o.visits;
        self.lead_magnet += o.lead_magnet;
        self.cta += o.cta;
        self.activation += o.activation;
    }

    pub(crate) fn bump(&mut self, s: Stage) {
        *match s {
            Stage::Click => &mut self.clicks,
            Stage::Visit => &mut self.visits,
            Stage::LeadMagnet => &mut self.lead_magnet,
            Stage::Cta => &mut self.cta,
            Stage::Activation => &mut self.activation,
        } += 1;
    }
}

/// What a scan gives besides the journeys: the rows set apart and the range's activity per
/// partner (by registry index).
#[derive(Debug, Clone)]
pub(crate) struct ScanTotals {
    pub excluded: Excluded,
    pub activity: Vec<Activity>,
    /// Per partner index: the landing-page beacon's trail in the range.
    pub trails: Vec<super::beacon::Trail>,
    /// The time the data was followed until: the range's `as_of`, or just after the newest row
    /// read when that is earlier (a table exported last week has not seen this week).
    pub as_of: Ts,
}

/// Partner codes and campaign names as small integers.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    pub codes: Vec<String>,
    index: HashMap<String, u16>,
    pub campaigns: Vec<String>,
    campaign_index: HashMap<String, u32>,
}

impl Registry {
    pub(crate) fn new<'a>(codes: impl IntoIterator<Item = &'a str>) -> Registry {
        let mut r = Registry::default();
        for c in codes {
            if !r.index.contains_key(c) {
                r.index.insert(c.to_string(), r.codes.len() as u16);
                r.codes.push(c.to_string());
            }
        }
        r
    }
    pub(crate) fn partner(&self, code: &str) -> Option<u16> {
        self.index.get(code).copied()
    }
    pub(crate) fn campaign(&mut self, name: &str) -> u32 {
        if let Some(i) = self.campaign_index.get(name) {
            return *i;
        }
        let i = self.campaigns.len() as u32;
        self.campaigns.push(name.to_string());
        self.campaign_index.insert(name.to_string(), i);
        i
    }
}

/// A journey with interned partner and campaign, as the counting stage reads it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct RawJourney {
    pub partner: u16,
    pub campaign: u32,
    pub start: Ts,
    pub counted_until: Ts,
    pub reached: Reached,
    pub revenue: f64,
    pub revenue_events: u32,
    pub rows: u32,
    /// Byte range of the user id in the bucket buffer (`len == 0`: none).
    user: (u32, u16),
    /// A journey built from a [`Journey`] that has a user id (no bucket buffer then).
    with_user: bool,
}

impl RawJourney {
    /// The journey carries a user id: someone to contact.
    pub(crate) fn has_user(&self) -> bool {
        self.user.1 > 0 || self.with_user
    }
}

/// One visitor's journeys in the range, handed to the consumer.
pub(crate) struct VisitorJourneys<'a> {
    visitor: Visitor<'a>,
    pub journeys: &'a [RawJourney],
    buf: &'a [u8],
}

/// A visitor id as packed: a UUID's number or the id's bytes.
#[derive(Clone, Copy)]
enum Visitor<'a> {
    Uuid(u64, u64),
    Text(&'a [u8]),
}

impl VisitorJourneys<'_> {
    /// The visitor id as stored (a UUID in its canonical text).
    pub(crate) fn visitor_id(&self) -> String {
        match self.visitor {
            Visitor::Uuid(hi, lo) => pack::uuid_text(hi, lo),
            Visitor::Text(b) => String::from_utf8_lossy(b).into_owned(),
        }
    }

    pub(crate) fn user_id(&self, j: &RawJourney) -> Option<&str> {
        let (off, len) = j.user;
        if len == 0 {
            return None;
        }
        std::str::from_utf8(&self.buf[off as usize..off as usize + len as usize]).ok()
    }
}

/// How many parts the scan is split into (threads, for a large SQLite source): `cfg`'s, or
/// one per core, at most 4.
fn scan_parts(cfg: &FunnelConfig) -> usize {
    match cfg.scan_parts {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get().clamp(1, 4)),
        n => n,
    }
}

/// Scan `source` and hand each visitor's journeys that start in `range` to `each`, in a
/// deterministic order (by visitor-id hash partition, then visitor id), whatever the split of
/// the scan.
pub(crate) fn scan_journeys(
    source: &Source,
    registry: &mut Registry,
    cfg: &FunnelConfig,
    range: Range,
    each: &mut dyn FnMut(&VisitorJourneys<'_>),
) -> Result<ScanTotals> {
    let window_ms = i64::from(cfg.window_days) * crate::events::MS_PER_DAY;
    let read_start = Ts(range.start.0 - window_ms);
    let mut ex = Excluded::default();
    let opts = ScanOptions {
        since: Some(read_start),
        until: Some(range.as_of),
        skip_id_and_path: true,
        progress: cfg.progress.clone(),
    };
    let code_names = registry.codes.clone();
    let codes: pack::FxMap<&str, u16> = code_names
        .iter()
        .enumerate()
        .map(|(i, c)| (c.as_str(), i as u16))
        .collect();
    let parts = scan_parts(cfg);
    let mut packers: Vec<Packer<'_>> = (0..parts)
        .map(|_| Packer::new(&codes, read_start, range, cfg.memory_budget / parts))
        .collect();
    {
        let mut sinks: Vec<_> = packers
            .iter_mut()
            .map(|p| move |r: Row<'_>| p.row(r))
            .collect();
        let mut refs: Vec<&mut PartSink<'_>> =
            sinks.iter_mut().map(|s| s as &mut PartSink<'_>).collect();
        ex.rows_read = source.scan_parts(&opts, &mut refs)?;
    }
    // Campaign numbers in name order: the same whatever part saw a campaign first.
    let mut names: Vec<&str> = packers
        .iter()
        .flat_map(|p| p.campaigns().iter().map(String::as_str))
        .collect();
    names.sort_unstable();
    names.dedup();
    for n in names {
        registry.campaign(n);
    }
    let remaps: Vec<Vec<u32>> = packers
        .iter()
        .map(|p| p.campaigns().iter().map(|c| registry.campaign(c)).collect())
        .collect();
    for p in &mut packers {
        p.count_apart(&mut ex);
    }
    if packers.iter().all(|p| p.known_rows() == 0) && !ex.unknown_partner_rows.is_empty() {
        return Err(no_known_partner(&ex, &code_names));
    }
    // The data ends at its newest row: journeys are followed until then, not until a `now`
    // the table has not seen (and the output depends on the table, not on the clock).
    let as_of = match packers.iter().filter_map(|p| p.newest()).max() {
        Some(t) => Ts((t + 1).min(range.as_of.0)),
        None => range.as_of,
    };
    let range = Range { as_of, ..range };
    if let Some(pb) = &cfg.progress {
        pb.set_message("attributing journeys");
    }
    let mut walker = Walker {
        window_ms,
        range,
        bot_max: u64::from(cfg.bot_max_events),
        journeys: Vec::new(),
        activity: vec![Activity::default(); code_names.len()],
        trails: vec![super::beacon::Trail::default(); code_names.len()],
    };
    // Hand each partition's pieces (one per part) to the thread that prepares it.
    let workers = parts;
    let mut files = Vec::with_capacity(parts);
    let mut jobs: Vec<Vec<(usize, Vec<Piece>)>> = (0..workers).map(|_| Vec::new()).collect();
    for p in 0..PARTITIONS {
        jobs[p % workers].push((p, Vec::with_capacity(parts)));
    }
    for packer in packers {
        let (file, pieces) = packer.into_store().into_pieces();
        files.push(file);
        for (p, piece) in pieces.into_iter().enumerate() {
            jobs[p % workers][p / workers].1.push(piece);
        }
    }
    let files = &files;
    let remaps = &remaps;
    if workers == 1 {
        for (_, pieces) in jobs.pop().unwrap_or_default() {
            let part = prepare(pieces, files, remaps)?;
            walker.partition(&part, &mut ex, each);
        }
        return Ok(ScanTotals {
            excluded: ex,
            activity: walker.activity,
            trails: walker.trails,
            as_of,
        });
    }
    // Reading, unpacking and sorting run on `workers` threads; the walk stays here, in
    // partition order, so the result does not depend on the number of threads.
    std::thread::scope(|scope| {
        let mut inbox = Vec::with_capacity(workers);
        for job in jobs {
            let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Prepared>>(1);
            inbox.push(rx);
            scope.spawn(move || {
                for (_, pieces) in job {
                    let part = prepare(pieces, files, remaps);
                    let failed = part.is_err();
                    if tx.send(part).is_err() || failed {
                        return;
                    }
                }
            });
        }
        for p in 0..PARTITIONS {
            let part = inbox[p % workers]
                .recv()
                .map_err(|_| Error::Internal("a partition reader stopped".into()))??;
            walker.partition(&part, &mut ex, each);
        }
        Ok::<(), Error>(())
    })?;
    Ok(ScanTotals {
        excluded: ex,
        activity: walker.activity,
        trails: walker.trails,
        as_of,
    })
}

/// Rows were read but none names a partner of the registry: the table of another site, or
/// partner files missing. Reporting zeros would hide it.
fn no_known_partner(ex: &Excluded, expected: &[String]) -> Error {
    const SHOWN: usize = 10;
    let mut found: Vec<String> = ex
        .unknown_partner_rows
        .iter()
        .take(SHOWN)
        .map(|(c, n)| format!("{c} ({n} rows)"))
        .collect();
    if ex.unknown_partner_rows.len() > SHOWN {
        found.push(format!(
            "and {} more",
            ex.unknown_partner_rows.len() - SHOWN
        ));
    }
    let expected = if expected.is_empty() {
        "none (partners/ is empty)".to_string()
    } else {
        expected.join(", ")
    };
    Error::user_hint(
        format!(
            "no row of the event source names a known partner: codes found {}; codes expected \
             (partners/*.yaml) {expected}",
            found.join(", ")
        ),
        "check that the event source is this site's table, or add the partner files for these codes",
    )
}

/// One partition ready to walk: its rows unpacked and sorted by (visitor, time, ...).
struct Prepared {
    buf: Vec<u8>,
    recs: Vec<Rec>,
    /// Text visitor ids (byte ranges in `buf`) by their number (`Rec::lo` of a text row).
    ids: Vec<(u32, u16)>,
}

/// Read one partition's pieces (one per scan part) and sort its rows.
fn prepare(
    pieces: Vec<Piece>,
    files: &[Option<std::fs::File>],
    remaps: &[Vec<u32>],
) -> Result<Prepared> {
    let mut buf = Vec::new();
    let mut recs: Vec<Rec> = Vec::new();
    let mut texts = Vec::new();
    for (k, piece) in pieces.into_iter().enumerate() {
        let start = buf.len();
        piece.read(files[k].as_ref(), &mut buf)?;
        pack::unpack(&buf, start..buf.len(), &remaps[k], &mut recs, &mut texts)?;
    }
    let bytes = |(off, len): (u32, u16)| &buf[off as usize..off as usize + len as usize];
    // Text ids: number them in text order (so the walk order does not depend on the source's
    // row order); equal texts get one number.
    let mut ids = Vec::new();
    if !texts.is_empty() {
        let mut order: Vec<u32> = (0..texts.len() as u32).collect();
        order.sort_unstable_by(|a, b| bytes(texts[*a as usize]).cmp(bytes(texts[*b as usize])));
        let mut rank = vec![0u64; texts.len()];
        for (k, &i) in order.iter().enumerate() {
            let b = bytes(texts[i as usize]);
            if k == 0 || bytes(texts[order[k - 1] as usize]) != b {
                ids.push(texts[i as usize]);
            }
            rank[i as usize] = (ids.len() - 1) as u64;
        }
        for r in recs.iter_mut().filter(|r| r.text) {
            r.lo = rank[r.lo as usize];
        }
    }
    let recs = sort_rows(recs, |a: &Rec, b: &Rec| {
        (a.text, a.hi, a.lo, a.time, a.kind, a.partner, a.campaign)
            .cmp(&(b.text, b.hi, b.lo, b.time, b.kind, b.partner, b.campaign))
            .then_with(|| a.value.total_cmp(&b.value))
            .then_with(|| bytes(a.user).cmp(bytes(b.user)))
    });
    Ok(Prepared { buf, recs, ids })
}

/// Bits of a UUID's high word that [`sort_rows`] distributes on first.
const RADIX_BITS: u32 = 12;

/// `recs` in `cmp` order (which must order by `text`, then `hi` first): one counting pass on
/// the leading bits of `hi` (text ids after every UUID), then each small run sorted by `cmp`.
/// Random (v4) UUIDs spread evenly, so the runs are a few rows; time-ordered ones only make the
/// runs longer, never the result different.
fn sort_rows(mut recs: Vec<Rec>, cmp: impl Fn(&Rec, &Rec) -> std::cmp::Ordering) -> Vec<Rec> {
    let slots = (1usize << RADIX_BITS) + 1;
    // A small partition (a small table, or a weekly report's few rows) is cheaper to sort at
    // once than to clear the counting pass's slots.
    if recs.len() < slots {
        recs.sort_unstable_by(&cmp);
        return recs;
    }
    let slot = |r: &Rec| {
        if r.text {
            slots - 1
        } else {
            (r.hi >> (64 - RADIX_BITS)) as usize
        }
    };
    let mut starts = vec![0usize; slots + 1];
    for r in &recs {
        starts[slot(r) + 1] += 1;
    }
    for i in 1..=slots {
        starts[i] += starts[i - 1];
    }
    let mut next = starts.clone();
    let mut out = vec![EMPTY_REC; recs.len()];
    for r in recs {
        let s = slot(&r);
        out[next[s]] = r;
        next[s] += 1;
    }
    for w in starts.windows(2) {
        if w[1] - w[0] > 1 {
            out[w[0]..w[1]].sort_unstable_by(&cmp);
        }
    }
    out
}

struct Walker {
    window_ms: i64,
    range: Range,
    bot_max: u64,
    journeys: Vec<RawJourney>,
    /// Per partner index: journeys of any start that first reached a stage in the range.
    activity: Vec<Activity>,
    /// Per partner index: the landing-page beacon's trail in the range.
    trails: Vec<super::beacon::Trail>,
}

impl Walker {
    /// Walk one prepared partition, one visitor at a time.
    fn partition(
        &mut self,
        part: &Prepared,
        ex: &mut Excluded,
        each: &mut dyn FnMut(&VisitorJourneys<'_>),
    ) {
        let (buf, recs) = (&part.buf[..], &part.recs[..]);
        let mut start = 0;
        while start < recs.len() {
            let first = recs[start];
            let mut end = start + 1;
            while end < recs.len() && recs[end].same_visitor(&first) {
                end += 1;
            }
            self.visitor(&recs[start..end], ex);
            if !self.journeys.is_empty() {
                let visitor = if first.text {
                    let (off, len) = part.ids[first.lo as usize];
                    Visitor::Text(&buf[off as usize..off as usize + len as usize])
                } else {
                    Visitor::Uuid(first.hi, first.lo)
                };
                each(&VisitorJourneys {
                    visitor,
                    journeys: &self.journeys,
                    buf,
                });
            }
            start = end;
        }
    }

    /// Build one visitor's journeys from its rows in time order (into `self.journeys`).
    fn visitor(&mut self, rows: &[Rec], ex: &mut Excluded) {
        self.journeys.clear();
        let range = self.range;
        let in_range = |t: i64| t >= range.start.0 && t < range.end.0;
        if rows.len() as u64 > self.bot_max {
            let counted = rows
                .iter()
                .filter(|r| r.kind != KIND_COUNT_ONLY && in_range(r.time))
                .count() as u64;
            if rows.iter().any(|r| in_range(r.time)) {
                ex.bot_visitors += 1;
            }
            ex.bot_rows += counted;
            return;
        }
        let mut active: Option<RawJourney> = None;
        for r in rows {
            if r.kind == KIND_COUNT_ONLY {
                continue;
            }
            let t = Ts(r.time);
            let is_touch = r.kind <= Stage::Visit as u8;
            let expired = active
                .as_ref()
                .is_none_or(|j| r.time >= j.start.0 + self.window_ms);
            if is_touch && expired {
                if let Some(j) = active.take() {
                    self.close(j);
                }
                active = Some(RawJourney {
                    partner: r.partner,
                    campaign: r.campaign,
                    start: t,
                    counted_until: Ts((r.time + self.window_ms).min(self.range.as_of.0)),
                    reached: Reached::default(),
                    revenue: 0.0,
                    revenue_events: 0,
                    rows: 0,
                    user: (0, 0),
                    with_user: false,
                });
            }
            let j = match active.as_mut() {
                Some(j) if r.time < j.start.0 + self.window_ms => j,
                _ => {
                    if in_range(r.time) {
                        ex.unattributed_rows += 1;
                    }
                    continue;
                }
            };
            j.rows += 1;
            if j.user.1 == 0 && r.user.1 > 0 {
                j.user = r.user;
            }
            match r.kind {
                KIND_REVENUE => {
                    j.revenue += r.value;
                    j.revenue_events += 1;
                }
                k => {
                    let stage = Stage::ALL[k as usize];
                    // Rows are in time order, so a visit already seen is at or before `t`.
                    if stage <= Stage::Visit || j.reached.visit.is_some() {
                        j.reached.slot(stage).get_or_insert(t);
                    }
                }
            }
        }
        if let Some(j) = active {
            self.close(j);
        }
    }

    fn close(&mut self, j: RawJourney) {
        if let Some(a) = self.activity.get_mut(j.partner as usize) {
            for s in Stage::ALL {
                if j.reached.get(s).is_some_and(|t| self.range.contains(t)) {
                    a.bump(s);
                }
            }
        }
        if let Some(t) = self.trails.get_mut(j.partner as usize) {
            t.journey(&j.reached, self.range.start, self.range.end);
        }
        if j.start >= self.range.start && j.start < self.range.end {
            self.journeys.push(j);
        }
    }
}

/// Materialise every journey of the range (for `leads` and library users). Sorted by start,
/// then visitor id.
pub(crate) fn collect(
    source: &Source,
    registry: &mut Registry,
    cfg: &FunnelConfig,
    range: Range,
) -> Result<(Vec<Journey>, ScanTotals)> {
    let mut out = Vec::new();
    let mut raw: Vec<(String, RawJourney, Option<String>)> = Vec::new();
    let totals = scan_journeys(source, registry, cfg, range, &mut |v| {
        for j in v.journeys {
            raw.push((v.visitor_id(), *j, v.user_id(j).map(str::to_string)));
        }
    })?;
    for (visitor_id, j, user_id) in raw {
        out.push(Journey {
            visitor_id,
            partner: registry.codes[j.partner as usize].clone(),
            campaign: registry.campaigns[j.campaign as usize].clone(),
            start: j.start,
            counted_until: j.counted_until,
            reached: j.reached,
            user_id,
            revenue: j.revenue,
            revenue_events: j.revenue_events,
            rows: j.rows,
        });
    }
    out.sort_by(|a, b| (a.start, &a.visitor_id).cmp(&(b.start, &b.visitor_id)));
    Ok((out, totals))
}

/// Intern public journeys back into raw ones (to count journeys a caller already has).
pub(crate) fn intern(registry: &mut Registry, j: &Journey) -> Option<RawJourney> {
    Some(RawJourney {
        partner: registry.partner(&j.partner)?,
        campaign: registry.campaign(&j.campaign),
        start: j.start,
        counted_until: j.counted_until,
        reached: j.reached,
        revenue: j.revenue,
        revenue_events: j.revenue_events,
        rows: j.rows,
        user: (0, 0),
        with_user: j.user_id.is_some(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn radix_then_run_sort_equals_one_full_sort() {
        // Leading bits spread (v4-like), shared (v7-like), and text ids, in a scrambled order.
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut recs = Vec::new();
        for i in 0..5_000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let hi = match i % 3 {
                0 => x,
                1 => 0x0190_0000_0000_0000 | (x >> 40),
                _ => 0,
            };
            recs.push(Rec {
                hi,
                lo: x % 7,
                time: (x % 5) as i64,
                kind: (x % 3) as u8,
                text: i % 3 == 2,
                ..EMPTY_REC
            });
        }
        let cmp = |a: &Rec, b: &Rec| {
            (a.text, a.hi, a.lo, a.time, a.kind).cmp(&(b.text, b.hi, b.lo, b.time, b.kind))
        };
        let key = |r: &Rec| (r.text, r.hi, r.lo, r.time, r.kind);
        let mut want: Vec<_> = recs.iter().map(key).collect();
        want.sort_unstable();
        let got: Vec<_> = sort_rows(recs, cmp).iter().map(key).collect();
        assert_eq!(got, want);
    }
}
