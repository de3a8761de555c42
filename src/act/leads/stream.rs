//! Per-lead stage, streaming: the journey walk -> leads in output order, then JSON, CSV or
//! Markdown written as they come.
//!
//! Takes: the site, an event source, the range, [`LeadsOptions`] and the paging asked for.
//! Gives: a [`LeadStream`] — the report's envelope (`total`, `next_cursor`, `excluded`, ...)
//! and an iterator of its leads, sorted by first touch then visitor id — and writers that put
//! it on any `io::Write`. Memory stays flat as the table grows: the walk hands each visitor's
//! journeys over one at a time (`funnel::journey`), a lead is kept as a compact record
//! (`leads::sort`) that spills to a temporary file past a budget, and a page (`limit`) keeps only
//! `limit` leads ([`page::Selector`]). The bytes are those of [`json`], [`to_csv`] and
//! [`markdown`] over the whole [`LeadsReport`].

use super::page::{After, Cursor, Selector};
use super::sort::{Rec, Sorted, Sorter};
use super::*;
use crate::funnel::journey::{self, Registry};
use std::io::Write;

/// Which leads of the query to give: after `cursor` (from the first without one), at most
/// `limit` (all without one).
#[derive(Debug, Clone, Copy, Default)]
pub struct Paging<'a> {
    /// Start after this cursor (from the first lead without one).
    pub cursor: Option<&'a Cursor>,
    /// At most this many leads (all without a limit).
    pub limit: Option<usize>,
}

/// A report whose leads are read as they are written.
pub struct LeadStream {
    /// The report without its leads: `leads` is empty, `total` and `next_cursor` are set.
    pub head: LeadsReport,
    /// How many leads the iterator gives.
    pub shown: usize,
    rows: Rows,
    /// Partners by their number in the walk.
    partners: Vec<Option<Partner>>,
    campaigns: Vec<String>,
    now: Ts,
    /// Stripe payments by visitor id.
    paid: crate::revenue::PaidByVisitor,
}

enum Rows {
    Sorted(Sorted),
    Page(std::vec::IntoIter<Rec>),
}

impl Iterator for LeadStream {
    type Item = Result<Lead>;

    fn next(&mut self) -> Option<Result<Lead>> {
        loop {
            let rec = match &mut self.rows {
                Rows::Sorted(s) => s.next()?,
                Rows::Page(p) => Ok(p.next()?),
            };
            let rec = match rec {
                Ok(r) => r,
                Err(e) => return Some(Err(e)),
            };
            let Some(Some(p)) = self.partners.get(rec.partner as usize) else {
                continue;
            };
            let j = Journey {
                visitor_id: rec.visitor_id,
                partner: p.code.clone(),
                campaign: self
                    .campaigns
                    .get(rec.campaign as usize)
                    .cloned()
                    .unwrap_or_default(),
                start: rec.start,
                counted_until: rec.start,
                reached: rec.reached,
                user_id: rec.user_id,
                revenue: rec.revenue,
                revenue_events: rec.revenue_events,
                rows: 0,
            };
            let mut l = lead(&j, p, self.now);
            l.paid = self.paid.get(&l.visitor_id).cloned().unwrap_or_default();
            return Some(Ok(l));
        }
    }
}

impl LeadStream {
    /// The whole report in memory (for library callers that want the leads as values).
    pub fn collect_report(self) -> Result<LeadsReport> {
        let mut head = self.head.clone();
        head.leads = self.collect::<Result<Vec<Lead>>>()?;
        Ok(head)
    }
}

/// The leads of `site` from the event source `events` over `range`, one page of them when
/// `paging` asks; leads are packed and sorted within `sort_budget` bytes of memory
/// (`leads::sort::SORT_BYTES` by default).
pub fn stream(
    site: &Site,
    events: &str,
    range: Range,
    opts: &LeadsOptions,
    paging: Paging<'_>,
    sort_budget: usize,
) -> Result<LeadStream> {
    if let Some(code) = &opts.partner {
        crate::report::check_partner(site, code)?;
    }
    let source = crate::report::open_source(site, events)?;
    from_source(site, &source, range, opts, paging, sort_budget)
}

/// [`stream()`] over a source already open.
pub fn from_source(
    site: &Site,
    source: &crate::events::Source,
    range: Range,
    opts: &LeadsOptions,
    paging: Paging<'_>,
    sort_budget: usize,
) -> Result<LeadStream> {
    let cfg = FunnelConfig::from_config(&site.config);
    let mut reg = Registry::new(site.partners.iter().map(|p| p.code.as_str()));
    let partners: Vec<Option<Partner>> =
        reg.codes.iter().map(|c| site.partner(c).cloned()).collect();
    // `Some(None)`: a partner filter no journey can match.
    let only: Option<Option<u16>> = opts.partner.as_deref().map(|c| reg.partner(c));
    enum Sink<'c> {
        All(Sorter, After<'c>),
        Page(Selector<'c>),
    }
    let mut sink = match paging.limit {
        Some(n) => Sink::Page(Selector::new(paging.cursor, n)),
        None => Sink::All(Sorter::new(sort_budget), After::new(paging.cursor)),
    };
    let (mut total, mut seq, mut failed) = (0usize, 0u64, None);
    let excluded = journey::scan_journeys(source, &mut reg, &cfg, range, &mut |v| {
        let mut visitor_id: Option<String> = None;
        for j in v.journeys {
            if only.is_some_and(|p| p != Some(j.partner))
                || partners.get(j.partner as usize).is_none_or(Option::is_none)
                || j.reached.last().is_none_or(|last| last < opts.stage)
                || (opts.contactable && v.user_id(j).is_none())
                || failed.is_some()
            {
                continue;
            }
            total += 1;
            seq += 1;
            let rec = Rec {
                start: j.start,
                seq,
                partner: j.partner,
                campaign: j.campaign,
                reached: j.reached,
                revenue: j.revenue,
                revenue_events: j.revenue_events,
                visitor_id: visitor_id.get_or_insert_with(|| v.visitor_id()).clone(),
                user_id: v.user_id(j).map(str::to_string),
            };
            match &mut sink {
                Sink::Page(s) => s.offer(rec),
                Sink::All(sorter, after) => {
                    if after.keeps(&rec) {
                        if let Err(e) = sorter.push(&rec) {
                            failed = Some(e);
                        }
                    }
                }
            }
        }
    })?
    .excluded;
    if let Some(e) = failed {
        return Err(e);
    }
    let (rows, shown, next_cursor) = match sink {
        Sink::Page(s) => {
            let (page, next) = s.finish();
            let shown = page.len();
            (Rows::Page(page.into_iter()), shown, next)
        }
        Sink::All(sorter, _) => {
            let shown = sorter.len();
            (Rows::Sorted(sorter.finish()), shown, None)
        }
    };
    Ok(LeadStream {
        head: LeadsReport {
            version: VERSION,
            source: source.describe(),
            range,
            now: opts.now,
            stage: opts.stage.as_str(),
            partner: opts.partner.clone(),
            total,
            next_cursor,
            leads: Vec::new(),
            excluded,
        },
        shown,
        rows,
        partners,
        campaigns: reg.campaigns,
        now: opts.now,
        paid: crate::revenue::paid_by_visitor(source)?,
    })
}

/// Write `leads` as `leads --format json` prints it (the bytes of [`json`]).
pub fn write_json(leads: LeadStream, out: &mut impl Write) -> Result<()> {
    use serde::ser::{Error as _, SerializeSeq};
    use std::cell::RefCell;

    /// The leads array, serialized from the stream (a read error is kept for the caller).
    struct Seq {
        rows: RefCell<LeadStream>,
        failed: RefCell<Option<Error>>,
    }
    impl Serialize for Seq {
        fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
            let mut seq = s.serialize_seq(None)?;
            for lead in &mut *self.rows.borrow_mut() {
                match lead {
                    Ok(l) => seq.serialize_element(&l)?,
                    Err(e) => {
                        let msg = e.to_string();
                        *self.failed.borrow_mut() = Some(e);
                        return Err(S::Error::custom(msg));
                    }
                }
            }
            seq.end()
        }
    }
    /// [`LeadsReport`]'s fields in its order, the leads streamed.
    #[derive(Serialize)]
    struct Out<'a> {
        version: u32,
        source: &'a str,
        range: Range,
        now: Ts,
        stage: &'static str,
        partner: &'a Option<String>,
        total: usize,
        next_cursor: &'a Option<String>,
        leads: Seq,
        excluded: &'a Excluded,
    }
    let h = leads.head.clone();
    let doc = Out {
        version: h.version,
        source: &h.source,
        range: h.range,
        now: h.now,
        stage: h.stage,
        partner: &h.partner,
        total: h.total,
        next_cursor: &h.next_cursor,
        leads: Seq {
            rows: RefCell::new(leads),
            failed: RefCell::new(None),
        },
        excluded: &h.excluded,
    };
    let written = serde_json::to_writer_pretty(&mut *out, &doc);
    if let Some(e) = doc.leads.failed.take() {
        return Err(e);
    }
    written.map_err(|e| match e.is_io() {
        true => write_err(std::io::Error::from(e)),
        false => Error::Internal(format!("cannot write the leads as JSON: {e}")),
    })?;
    out.write_all(b"\n").map_err(write_err)
}

/// A failed write (the command writes to stdout, and says so as it always did).
fn write_err(e: std::io::Error) -> Error {
    Error::io("cannot write the leads to stdout", e)
}

/// Write `leads` as `leads --format csv` prints it (the bytes of [`to_csv`]).
pub fn write_csv(leads: LeadStream, out: &mut impl Write) -> Result<()> {
    let mut w = csv::Writer::new(&mut *out, &CSV_HEADER).map_err(write_err)?;
    for l in leads {
        csv_row(&l?, &mut w).map_err(write_err)?;
    }
    Ok(())
}

/// Write `leads` as `leads --format md` prints it (the bytes of [`markdown`]).
pub fn write_markdown(leads: LeadStream, out: &mut impl Write) -> Result<()> {
    out.write_all(md_intro(&leads.head, leads.shown).as_bytes())
        .map_err(write_err)?;
    if leads.shown == 0 {
        return Ok(());
    }
    out.write_all(MD_TABLE_HEAD.as_bytes()).map_err(write_err)?;
    for l in leads {
        out.write_all(md_row(&l?).as_bytes()).map_err(write_err)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{Event, Source};

    fn site() -> Site {
        crate::site::load(
            std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/aikit")),
            &Default::default(),
        )
        .unwrap()
    }

    /// Journeys of every kind over the repository's partners: UUID and text visitor ids, two
    /// visitors starting at the same instant, user ids, revenue, campaigns a CSV must quote or
    /// neutralise, pipes for Markdown, and visitors that come back after the window.
    fn events(site: &Site, n: usize) -> Vec<Event> {
        let codes: Vec<&str> = site.partners.iter().map(|p| p.code.as_str()).collect();
        let mut rows = Vec::new();
        for i in 0..n {
            let vid = if i % 3 == 0 {
                format!("visitor|{}", i % 50)
            } else {
                format!(
                    "{:08x}-{:04x}-4abc-8def-{:012x}",
                    (i * 2_654_435_761) % (1 << 32),
                    i % 65536,
                    i
                )
            };
            let partner = codes[i % codes.len()];
            let campaign = ["default", "=HYPERLINK(\"x\")", "a,b \"c\"", "jan|feb"][i % 4];
            let day = 10 + (i % 14);
            // Every fifth visitor starts at the same instant as the one before.
            let minute = if i % 5 == 4 { (i - 1) % 60 } else { i % 60 };
            let at = |h: usize| format!("2026-11-{day:02}T{h:02}:{minute:02}:00.000Z");
            let mut push =
                |stage: &str, created_at: String, value: Option<f64>, user: Option<String>| {
                    rows.push(Event {
                        id: format!("r{}", rows.len()),
                        partner_code: partner.into(),
                        campaign: campaign.into(),
                        event_name: stage.into(),
                        page_path: "/".into(),
                        visitor_id: Some(vid.clone()),
                        created_at,
                        value,
                        user_id: user,
                        variant: None,
                        pay: Default::default(),
                    })
                };
            if i % 7 != 0 {
                push("click", at(9), None, None);
            }
            if i % 11 != 0 {
                push("visit", at(10), None, None);
            }
            if i % 2 == 0 {
                push("lead_magnet", at(11), None, None);
            }
            if i % 4 == 0 {
                push("cta", at(12), None, None);
            }
            if i % 8 == 0 {
                push("activation", at(13), None, Some(format!("acct-{i}")));
                push("revenue", at(14), Some((i % 97) as f64 + 0.1), None);
            }
        }
        rows
    }

    fn range() -> Range {
        Range::from_flags(
            None,
            Some("2026-11-12"),
            Some("2026-11-22"),
            Some("2026-11-22"),
        )
        .unwrap()
    }

    fn opts(stage: Stage, partner: Option<String>) -> LeadsOptions {
        LeadsOptions {
            stage,
            partner,
            now: Ts::parse_date_or_time("2026-11-22T00:00:00Z").unwrap(),
            contactable: false,
        }
    }

    /// What the command printed before it streamed: every lead in memory, then the page.
    fn old(
        site: &Site,
        src: &Source,
        o: &LeadsOptions,
        cursor: Option<&Cursor>,
        limit: Option<usize>,
    ) -> LeadsReport {
        let cfg = FunnelConfig::from_config(&site.config);
        let j = crate::funnel::journeys(src, &site.partners, &cfg, range()).unwrap();
        let mut r = from_journeys(site, &src.describe(), &j, o);
        page::apply(&mut r, cursor, limit);
        r
    }

    fn streamed(
        site: &Site,
        src: &Source,
        o: &LeadsOptions,
        paging: Paging<'_>,
        budget: usize,
    ) -> [String; 3] {
        let s = || from_source(site, src, range(), o, paging, budget).unwrap();
        let mut out = [Vec::new(), Vec::new(), Vec::new()];
        write_json(s(), &mut out[0]).unwrap();
        write_csv(s(), &mut out[1]).unwrap();
        write_markdown(s(), &mut out[2]).unwrap();
        out.map(|b| String::from_utf8(b).unwrap())
    }

    #[test]
    fn streamed_output_is_byte_for_byte_the_whole_report_in_every_format() {
        let site = site();
        let src = Source::Memory(events(&site, 3_000));
        let one = site.partners[2].code.clone();
        for o in [
            opts(Stage::Visit, None),
            opts(Stage::Click, None),
            opts(Stage::LeadMagnet, Some(one)),
            opts(Stage::Activation, None),
        ] {
            let want = old(&site, &src, &o, None, None);
            assert!(
                want.leads.len() > 20 || o.stage == Stage::Activation,
                "{}",
                json(&want)
            );
            // A budget of a few leads spills many sorted runs; the default holds them all.
            for budget in [2 << 10, sort::SORT_BYTES] {
                let got = streamed(&site, &src, &o, Paging::default(), budget);
                assert_eq!(
                    got[0],
                    json(&want),
                    "json, stage {:?}, budget {budget}",
                    o.stage
                );
                assert_eq!(
                    got[1],
                    to_csv(&want),
                    "csv, stage {:?}, budget {budget}",
                    o.stage
                );
                assert_eq!(
                    got[2],
                    markdown(&want),
                    "md, stage {:?}, budget {budget}",
                    o.stage
                );
            }
        }
        // Nothing matches: the empty forms.
        let empty = Source::Memory(Vec::new());
        let o = opts(Stage::Visit, None);
        let want = old(&site, &empty, &o, None, None);
        let got = streamed(&site, &empty, &o, Paging::default(), 2 << 10);
        assert_eq!(got, [json(&want), to_csv(&want), markdown(&want)]);
    }

    /// Following the cursor page by page gives exactly the pages the whole list cut into pages
    /// gave, while each page keeps only `limit` leads; a cursor without a limit streams the rest.
    #[test]
    fn bounded_pages_are_the_pages_of_the_whole_list() {
        let site = site();
        let src = Source::Memory(events(&site, 250));
        let o = opts(Stage::Visit, None);
        let total = old(&site, &src, &o, None, None).leads.len();
        for limit in [1, 7, 100, total, total + 5] {
            let mut cursor: Option<Cursor> = None;
            let mut pages = 0;
            loop {
                let want = old(&site, &src, &o, cursor.as_ref(), Some(limit));
                let paging = Paging {
                    cursor: cursor.as_ref(),
                    limit: Some(limit),
                };
                let page = from_source(&site, &src, range(), &o, paging, 2 << 10).unwrap();
                assert!(page.shown <= limit);
                let got = page.collect_report().unwrap();
                assert_eq!(json(&got), json(&want), "limit {limit}, page {pages}");
                // Now and then: the rest of the list from this cursor, streamed and sorted.
                if pages % 8 == 1 {
                    let rest = old(&site, &src, &o, cursor.as_ref(), None);
                    let paging = Paging {
                        cursor: cursor.as_ref(),
                        limit: None,
                    };
                    let mut got = Vec::new();
                    write_csv(
                        from_source(&site, &src, range(), &o, paging, 2 << 10).unwrap(),
                        &mut got,
                    )
                    .unwrap();
                    assert_eq!(String::from_utf8(got).unwrap(), to_csv(&rest));
                }
                pages += 1;
                match want.next_cursor {
                    Some(c) => cursor = Some(Cursor::parse(&c).unwrap()),
                    None => break,
                }
            }
            assert_eq!(pages, total.div_ceil(limit).max(1), "limit {limit}");
        }
    }
}
