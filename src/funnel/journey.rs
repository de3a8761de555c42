//! Funnel stage, attribution: rows -> first-touch journeys per visitor.
//!
//! Takes: a [`Source`], the partner registry and the report [`Range`]. Gives: each visitor's
//! journeys that start in the range, with the time each stage was first reached (and the rows
//! set apart: unknown partners, no visitor id, bots, ...).
//!
//! How it stays fast and flat: one sequential scan of the source; each row is packed (about 35
//! bytes) into one of [`PARTITIONS`] buckets chosen by a hash of its visitor id, kept in memory
//! while small and spilled to unnamed temporary files beyond [`SPILL_BYTES`]. Then each bucket in
//! turn is sorted by (visitor, time) and walked: one visitor's rows are always in one bucket, so
//! memory is one bucket, whatever the size of the table.

use super::buckets::{Buckets, Rec, F_USER, F_VALUE};
use super::{FunnelConfig, Range};
use crate::error::{Error, Result};
use crate::events::{Row, ScanOptions, Source, Ts};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// Number of buckets rows are spread over by visitor id.
pub const PARTITIONS: usize = 64;
/// Default buffered bytes over which buckets move to temporary files.
pub const SPILL_BYTES: usize = 48 << 20;

/// What a row means to the funnel. Stages sort before revenue, so at equal times a `visit`
/// comes before the `lead_magnet` it enables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Click = 0,
    Visit = 1,
    LeadMagnet = 2,
    Cta = 3,
    Activation = 4,
}

impl Stage {
    pub const ALL: [Stage; 5] = [
        Stage::Click,
        Stage::Visit,
        Stage::LeadMagnet,
        Stage::Cta,
        Stage::Activation,
    ];

    /// The `event_name` stored for this stage.
    pub fn name(self) -> &'static str {
        crate::partner::STAGES[self as usize]
    }

    pub fn from_name(s: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|st| st.name() == s)
    }
}

const KIND_REVENUE: u8 = 5;
/// A row kept only so the bot rule counts it (unknown partner code or event name).
const KIND_COUNT_ONLY: u8 = 255;

/// The time each stage was first reached in a journey (`None`: not reached).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Reached {
    pub click: Option<Ts>,
    pub visit: Option<Ts>,
    pub lead_magnet: Option<Ts>,
    pub cta: Option<Ts>,
    pub activation: Option<Ts>,
}

impl Reached {
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

/// One visitor's first-touch journey (DESIGN.md section 4).
///
/// It starts at a `click` or `visit` when no journey is active, lasts the attribution window,
/// and owns every row of the visitor inside it, whatever partner the row names. Only rows
/// before `counted_until` (= min(range end, start + window)) are counted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Journey {
    pub visitor_id: String,
    /// Partner and campaign of the journey's first row.
    pub partner: String,
    pub campaign: String,
    pub start: Ts,
    pub counted_until: Ts,
    /// When each stage was first reached; `lead_magnet`, `cta` and `activation` only count at
    /// or after the first `visit`.
    pub reached: Reached,
    /// The product's opaque user id, when a server-side row of the journey carried one. Never
    /// put it in public output.
    pub user_id: Option<String>,
    /// Sum of the `value` of the journey's `revenue` rows (0 when none).
    pub revenue: f64,
    pub revenue_events: u32,
    /// Rows the journey owns (counted ones).
    pub rows: u32,
}

/// Rows read but not funneled, counted and shown apart. Counts are of rows created in the
/// report range, except `rows_read` (everything the scan handed over).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
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

/// Partner codes and campaign names as small integers.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    pub codes: Vec<String>,
    index: HashMap<String, u16>,
    pub campaigns: Vec<String>,
    campaign_index: HashMap<String, u32>,
}

impl Registry {
    pub fn new<'a>(codes: impl IntoIterator<Item = &'a str>) -> Registry {
        let mut r = Registry::default();
        for c in codes {
            if !r.index.contains_key(c) {
                r.index.insert(c.to_string(), r.codes.len() as u16);
                r.codes.push(c.to_string());
            }
        }
        r
    }
    pub fn partner(&self, code: &str) -> Option<u16> {
        self.index.get(code).copied()
    }
    pub fn campaign(&mut self, name: &str) -> u32 {
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
}

/// One visitor's journeys in the range, handed to the consumer.
pub(crate) struct VisitorJourneys<'a> {
    pub visitor_id: &'a str,
    pub journeys: &'a [RawJourney],
    buf: &'a [u8],
}

impl VisitorJourneys<'_> {
    pub fn user_id(&self, j: &RawJourney) -> Option<&str> {
        let (off, len) = j.user;
        if len == 0 {
            return None;
        }
        std::str::from_utf8(&self.buf[off as usize..off as usize + len as usize]).ok()
    }
}

/// Scan `source` and hand each visitor's journeys that start in `range` to `each`, in a
/// deterministic order (by visitor-id hash bucket, then visitor id).
pub(crate) fn scan_journeys(
    source: &Source,
    registry: &mut Registry,
    cfg: &FunnelConfig,
    range: Range,
    each: &mut dyn FnMut(&VisitorJourneys<'_>),
) -> Result<Excluded> {
    let window_ms = i64::from(cfg.window_days) * crate::events::MS_PER_DAY;
    let read_start = Ts(range.start.0 - window_ms);
    let mut ex = Excluded::default();
    let mut buckets = Buckets::new(cfg.memory_budget);
    let mut rec = Vec::with_capacity(128);
    let opts = ScanOptions {
        since: Some(read_start),
        until: Some(range.end),
        skip_id_and_path: true,
        progress: cfg.progress.clone(),
    };
    let in_range = |t: Ts| t >= range.start && t < range.end;
    ex.rows_read = source.scan_threaded(&opts, &mut |r: Row<'_>| {
        let Some(t) = Ts::parse(r.created_at) else {
            ex.invalid_time_rows += 1;
            return Ok(());
        };
        if t < read_start || t >= range.end {
            return Ok(());
        }
        let (partner, kind) = match registry.partner(r.partner_code) {
            None => {
                if in_range(t) {
                    *ex.unknown_partner_rows
                        .entry(r.partner_code.to_string())
                        .or_default() += 1;
                }
                (u16::MAX, KIND_COUNT_ONLY)
            }
            Some(p) => {
                if r.visitor_id.is_none() {
                    if in_range(t) {
                        *ex.no_visitor_rows
                            .entry(r.partner_code.to_string())
                            .or_default() += 1;
                    }
                    return Ok(());
                }
                match Stage::from_name(r.event_name) {
                    Some(s) => (p, s as u8),
                    None if r.event_name == crate::partner::REVENUE => (p, KIND_REVENUE),
                    None => {
                        if in_range(t) {
                            *ex.unknown_event_rows
                                .entry(r.event_name.to_string())
                                .or_default() += 1;
                        }
                        (p, KIND_COUNT_ONLY)
                    }
                }
            }
        };
        let Some(vid) = r.visitor_id else {
            return Ok(());
        };
        let vid = vid.as_bytes();
        let vid = &vid[..vid.len().min(u16::MAX as usize)];
        let campaign = if kind == KIND_COUNT_ONLY {
            0
        } else {
            registry.campaign(r.campaign)
        };
        rec.clear();
        rec.extend_from_slice(&(vid.len() as u16).to_le_bytes());
        rec.extend_from_slice(vid);
        rec.extend_from_slice(&t.0.to_le_bytes());
        rec.extend_from_slice(&partner.to_le_bytes());
        rec.extend_from_slice(&campaign.to_le_bytes());
        rec.push(kind);
        let user = r
            .user_id
            .filter(|u| !u.is_empty())
            .map(|u| &u.as_bytes()[..u.len().min(u16::MAX as usize)]);
        let flags =
            if r.value.is_some() { F_VALUE } else { 0 } | if user.is_some() { F_USER } else { 0 };
        rec.push(flags);
        if let Some(v) = r.value {
            rec.extend_from_slice(&v.to_le_bytes());
        }
        if let Some(u) = user {
            rec.extend_from_slice(&(u.len() as u16).to_le_bytes());
            rec.extend_from_slice(u);
        }
        buckets.push(vid, &rec)
    })?;
    if let Some(pb) = &cfg.progress {
        pb.set_message("attributing journeys");
    }
    let mut walker = Walker {
        window_ms,
        range,
        bot_max: u64::from(cfg.bot_max_events),
        journeys: Vec::new(),
    };
    for i in 0..PARTITIONS {
        let buf = buckets.take(i)?;
        walker.bucket(&buf, &mut ex, each)?;
    }
    Ok(ex)
}

struct Walker {
    window_ms: i64,
    range: Range,
    bot_max: u64,
    journeys: Vec<RawJourney>,
}

impl Walker {
    fn bucket(
        &mut self,
        buf: &[u8],
        ex: &mut Excluded,
        each: &mut dyn FnMut(&VisitorJourneys<'_>),
    ) -> Result<()> {
        if buf.is_empty() {
            return Ok(());
        }
        let corrupt = || Error::Internal("a temporary bucket file is truncated".into());
        let mut ids: HashMap<&[u8], u32> = HashMap::new();
        let mut names: Vec<&[u8]> = Vec::new();
        let mut recs: Vec<Rec> = Vec::with_capacity(buf.len() / 40);
        let mut i = 0usize;
        let u16_at = |i: usize| -> Option<u16> {
            Some(u16::from_le_bytes(buf.get(i..i + 2)?.try_into().ok()?))
        };
        while i < buf.len() {
            let vlen = u16_at(i).ok_or_else(corrupt)? as usize;
            let vid = buf.get(i + 2..i + 2 + vlen).ok_or_else(corrupt)?;
            i += 2 + vlen;
            let fixed = buf.get(i..i + 16).ok_or_else(corrupt)?;
            let time = i64::from_le_bytes(fixed[0..8].try_into().map_err(|_| corrupt())?);
            let partner = u16::from_le_bytes([fixed[8], fixed[9]]);
            let campaign = u32::from_le_bytes(fixed[10..14].try_into().map_err(|_| corrupt())?);
            let (kind, flags) = (fixed[14], fixed[15]);
            i += 16;
            let mut value = 0.0;
            if flags & F_VALUE != 0 {
                value = f64::from_le_bytes(
                    buf.get(i..i + 8)
                        .ok_or_else(corrupt)?
                        .try_into()
                        .map_err(|_| corrupt())?,
                );
                i += 8;
            }
            let mut user = (0u32, 0u16);
            if flags & F_USER != 0 {
                let ulen = u16_at(i).ok_or_else(corrupt)?;
                user = ((i + 2) as u32, ulen);
                i += 2 + ulen as usize;
            }
            let next = names.len() as u32;
            let visitor = *ids.entry(vid).or_insert_with(|| {
                names.push(vid);
                next
            });
            recs.push(Rec {
                visitor,
                time,
                campaign,
                partner,
                kind,
                value,
                user,
            });
        }
        // Rank visitors by id so the order does not depend on the source's row order.
        let mut order: Vec<u32> = (0..names.len() as u32).collect();
        order.sort_unstable_by(|a, b| names[*a as usize].cmp(names[*b as usize]));
        let mut rank = vec![0u32; names.len()];
        for (r, v) in order.iter().enumerate() {
            rank[*v as usize] = r as u32;
        }
        for r in &mut recs {
            r.visitor = rank[r.visitor as usize];
        }
        recs.sort_unstable_by_key(|r| (r.visitor, r.time, r.kind, r.partner, r.campaign));
        let mut start = 0;
        while start < recs.len() {
            let v = recs[start].visitor;
            let mut end = start;
            while end < recs.len() && recs[end].visitor == v {
                end += 1;
            }
            let vid = names[order[v as usize] as usize];
            self.visitor(&recs[start..end], ex);
            if !self.journeys.is_empty() {
                let visitor_id = std::str::from_utf8(vid).unwrap_or("");
                each(&VisitorJourneys {
                    visitor_id,
                    journeys: &self.journeys,
                    buf,
                });
            }
            start = end;
        }
        Ok(())
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
                    counted_until: Ts((r.time + self.window_ms).min(self.range.end.0)),
                    reached: Reached::default(),
                    revenue: 0.0,
                    revenue_events: 0,
                    rows: 0,
                    user: (0, 0),
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
) -> Result<(Vec<Journey>, Excluded)> {
    let mut out = Vec::new();
    let mut raw: Vec<(String, RawJourney, Option<String>)> = Vec::new();
    let ex = scan_journeys(source, registry, cfg, range, &mut |v| {
        for j in v.journeys {
            raw.push((
                v.visitor_id.to_string(),
                *j,
                v.user_id(j).map(str::to_string),
            ));
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
    Ok((out, ex))
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
    })
}
