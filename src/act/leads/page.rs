//! Per-lead stage, paging: one page of leads.
//!
//! Takes: an optional cursor from a previous page and an optional limit, and either a report
//! whose leads are in their stable order (first touch, then visitor id: [`apply`]) or the leads
//! one by one in walk order ([`Selector`], which keeps only `limit` of them, so a page costs the
//! same memory whatever the table). Gives: that page, `total` (every lead of the query) and
//! `next_cursor` (`null` on the last page); both ways give the same page.
//!
//! The cursor is a key, not an offset: it names the last lead of the page (its first-touch time
//! and visitor id, plus how many leads with exactly that key were already given), so a page
//! boundary stays put when leads are added before it; pass `now` (or `since`/`until`) so the
//! range itself does not move between pages. It is opaque to callers (URL-safe base64).

use super::sort::Rec;
use super::{Lead, LeadsReport};
use crate::error::{Error, Result};
use base64::Engine;
use std::collections::BinaryHeap;

/// Leads per page of the MCP `leads` tool when no `limit` is given.
pub const DEFAULT_LIMIT: usize = 200;
/// Largest `limit` accepted.
pub const MAX_LIMIT: usize = 1000;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;
/// First field of every cursor: the version of its layout.
const LAYOUT: &str = "1";

/// Where the next page starts: after the `skip`-th lead whose key is (`at`, `visitor_id`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    at: i64,
    visitor_id: String,
    skip: usize,
}

impl Cursor {
    /// Read a cursor given back by a previous page.
    pub fn parse(s: &str) -> Result<Cursor> {
        let bad = || {
            Error::field(
                "cursor",
                format!("{s:?}"),
                "not a cursor from a previous leads answer",
                "pass `next_cursor` of the previous page exactly as given, or no cursor for \
                 the first page",
            )
        };
        let bytes = B64.decode(s.trim()).map_err(|_| bad())?;
        let text = String::from_utf8(bytes).map_err(|_| bad())?;
        let mut parts = text.splitn(4, '|');
        let (layout, at, skip, visitor_id) =
            match (parts.next(), parts.next(), parts.next(), parts.next()) {
                (Some(l), Some(a), Some(k), Some(v)) => (l, a, k, v),
                _ => return Err(bad()),
            };
        if layout != LAYOUT || visitor_id.is_empty() {
            return Err(bad());
        }
        Ok(Cursor {
            at: at.parse().map_err(|_| bad())?,
            skip: skip.parse().ok().filter(|&n| n >= 1).ok_or_else(bad)?,
            visitor_id: visitor_id.to_string(),
        })
    }

    fn encode(&self) -> String {
        B64.encode(format!(
            "{LAYOUT}|{}|{}|{}",
            self.at, self.skip, self.visitor_id
        ))
    }

    fn key(&self) -> (i64, &str) {
        (self.at, &self.visitor_id)
    }
}

fn key(l: &Lead) -> (i64, &str) {
    (l.first_touch.at.0, &l.visitor_id)
}

/// Check a `limit` argument: 1 to [`MAX_LIMIT`].
pub fn check_limit(limit: usize) -> Result<usize> {
    if (1..=MAX_LIMIT).contains(&limit) {
        Ok(limit)
    } else {
        Err(Error::field(
            "limit",
            limit.to_string(),
            format!("must be 1 to {MAX_LIMIT}"),
            "page through bigger answers with the cursor each page gives (`next_cursor`)",
        ))
    }
}

/// Keep only the page of `report` after `cursor` (from the start without one), at most `limit`
/// leads (all the rest without one); set `total` and `next_cursor`.
pub fn apply(report: &mut LeadsReport, cursor: Option<&Cursor>, limit: Option<usize>) {
    let all = std::mem::take(&mut report.leads);
    report.total = all.len();
    let start = match cursor {
        None => 0,
        Some(c) => {
            // Leads are sorted by key: skip every lead before the cursor's key, then the ones
            // with that very key the previous pages already gave.
            let first_equal = all.partition_point(|l| key(l) < c.key());
            let after_equal = all.partition_point(|l| key(l) <= c.key());
            (first_equal + c.skip).min(after_equal)
        }
    };
    let end = limit.map_or(all.len(), |n| start.saturating_add(n).min(all.len()));
    report.next_cursor = (end < all.len() && end > start).then(|| {
        let last = &all[end - 1];
        let first_equal = all.partition_point(|l| key(l) < key(last));
        Cursor {
            at: last.first_touch.at.0,
            visitor_id: last.visitor_id.clone(),
            skip: end - first_equal,
        }
        .encode()
    });
    report.leads = all.into_iter().skip(start).take(end - start).collect();
}

/// Whether a lead comes after a cursor, for leads offered in walk order (the order that breaks
/// ties between equal keys): the first `skip` leads with the cursor's very key are before it.
pub struct After<'c> {
    cursor: Option<&'c Cursor>,
    equal_seen: usize,
}

impl<'c> After<'c> {
    /// Keeps what comes after `cursor` (everything without one).
    pub fn new(cursor: Option<&'c Cursor>) -> After<'c> {
        After {
            cursor,
            equal_seen: 0,
        }
    }

    /// Does `rec` come after the cursor?
    pub fn keeps(&mut self, rec: &Rec) -> bool {
        let Some(c) = self.cursor else {
            return true;
        };
        match rec_key(rec).cmp(&c.key()) {
            std::cmp::Ordering::Less => false,
            std::cmp::Ordering::Greater => true,
            std::cmp::Ordering::Equal => {
                self.equal_seen += 1;
                self.equal_seen > c.skip
            }
        }
    }
}

fn rec_key(r: &Rec) -> (i64, &str) {
    (r.start.0, &r.visitor_id)
}

/// One page chosen while leads stream by: the `limit` first leads after the cursor, kept in a
/// bounded heap (memory: `limit` leads, whatever the number of leads).
pub struct Selector<'c> {
    after: After<'c>,
    limit: usize,
    /// Leads after the cursor (on this page or later ones).
    remaining: usize,
    heap: BinaryHeap<Largest>,
}

/// A lead in the page heap, the last in output order on top.
struct Largest(Rec);

impl PartialEq for Largest {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == std::cmp::Ordering::Equal
    }
}
impl Eq for Largest {}
impl PartialOrd for Largest {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Largest {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.0.cmp_key(&o.0)
    }
}

impl<'c> Selector<'c> {
    /// At most `limit` (at least 1) leads after `cursor`.
    pub fn new(cursor: Option<&'c Cursor>, limit: usize) -> Selector<'c> {
        let limit = limit.max(1);
        Selector {
            after: After::new(cursor),
            limit,
            remaining: 0,
            heap: BinaryHeap::with_capacity(limit + 1),
        }
    }

    /// Consider one lead (in walk order).
    pub fn offer(&mut self, rec: Rec) {
        if !self.after.keeps(&rec) {
            return;
        }
        self.remaining += 1;
        if self.heap.len() < self.limit {
            self.heap.push(Largest(rec));
        } else if self
            .heap
            .peek()
            .is_some_and(|top| rec.cmp_key(&top.0).is_lt())
        {
            self.heap.pop();
            self.heap.push(Largest(rec));
        }
    }

    /// The page in order, and the cursor of the next page (`None` on the last).
    pub fn finish(self) -> (Vec<Rec>, Option<String>) {
        let page: Vec<Rec> = self
            .heap
            .into_sorted_vec()
            .into_iter()
            .map(|l| l.0)
            .collect();
        let next = (self.remaining > page.len())
            .then(|| page.last())
            .flatten()
            .map(|last| {
                // Leads with the last one's key: the ones on this page, and the ones the
                // cursor already skipped when the page started within that key.
                let on_page = page.iter().filter(|r| rec_key(r) == rec_key(last)).count();
                let before = self
                    .after
                    .cursor
                    .filter(|c| c.key() == rec_key(last))
                    .map_or(0, |c| c.skip);
                Cursor {
                    at: last.start.0,
                    visitor_id: last.visitor_id.clone(),
                    skip: before + on_page,
                }
                .encode()
            });
        (page, next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_reads_back_what_it_encodes() {
        let c = Cursor {
            at: 1_763_000_000_123,
            visitor_id: "v|with|bars".into(),
            skip: 2,
        };
        assert_eq!(Cursor::parse(&c.encode()).unwrap(), c);
    }

    #[test]
    fn malformed_cursors_are_user_errors() {
        for s in [
            "",
            "not base64 !",
            &B64.encode("2|1|1|v"),
            &B64.encode("1|x|1|v"),
            &B64.encode("1|1|0|v"),
            &B64.encode("1|1|1|"),
            &B64.encode("1|1"),
        ] {
            let e = Cursor::parse(s).unwrap_err();
            assert!(
                e.to_string()
                    .contains("not a cursor from a previous leads answer"),
                "{s:?}: {e}"
            );
        }
    }

    fn report(keys: &[(i64, &str)]) -> LeadsReport {
        use crate::events::Ts;
        let lead = |(at, vid): &(i64, &str)| Lead {
            visitor_id: vid.to_string(),
            user_id: None,
            partner: "p".into(),
            partner_name: "P".into(),
            campaign: "default".into(),
            promise: String::new(),
            cta: crate::partner::Cta {
                label: String::new(),
                kind: crate::partner::CtaKind::Demo,
                url: String::new(),
            },
            activation_event: String::new(),
            first_touch: super::super::FirstTouch {
                at: Ts(*at),
                stage: "click",
            },
            stages: super::super::Stages {
                click: Some(Ts(*at)),
                visit: None,
                lead_magnet: None,
                cta: None,
                activation: None,
            },
            last_stage: "click",
            last_at: Ts(*at),
            revenue: 0.0,
            revenue_events: 0,
            next_step: super::super::next_step::NextStep {
                rule: "no_action",
                action: String::new(),
                because: String::new(),
            },
            paid: Vec::new(),
        };
        LeadsReport {
            version: super::super::VERSION,
            source: "test".into(),
            range: crate::funnel::Range::new(Ts(0), Ts(100)),
            now: Ts(100),
            stage: "click",
            partner: None,
            total: 0,
            next_cursor: None,
            leads: keys.iter().map(lead).collect(),
            excluded: Default::default(),
        }
    }

    /// Every page size over leads that share keys (the same visitor at the same instant, which
    /// real data can hold) gives every lead exactly once, in order.
    #[test]
    fn pages_give_every_lead_once_even_with_equal_keys() {
        let keys = [
            (1, "a"),
            (1, "a"),
            (1, "a"),
            (1, "b"),
            (2, "a"),
            (2, "a"),
            (3, "c"),
        ];
        let full = report(&keys);
        for limit in 1..=keys.len() + 1 {
            let mut got = Vec::new();
            let mut cursor: Option<Cursor> = None;
            let mut pages = 0;
            loop {
                let mut page = full.clone();
                apply(&mut page, cursor.as_ref(), Some(limit));
                assert_eq!(page.total, keys.len());
                assert!(page.leads.len() <= limit);
                got.extend(
                    page.leads
                        .iter()
                        .map(|l| (l.first_touch.at.0, l.visitor_id.clone())),
                );
                pages += 1;
                match page.next_cursor {
                    Some(c) => cursor = Some(Cursor::parse(&c).unwrap()),
                    None => break,
                }
            }
            let want: Vec<_> = keys.iter().map(|(t, v)| (*t, v.to_string())).collect();
            assert_eq!(got, want, "limit {limit}");
            assert_eq!(pages, keys.len().div_ceil(limit), "limit {limit}");
        }
        let mut all = full.clone();
        apply(&mut all, None, None);
        assert_eq!((all.leads.len(), all.next_cursor), (keys.len(), None));
    }

    #[test]
    fn limits_outside_one_to_max_are_refused() {
        assert!(check_limit(0).is_err());
        assert!(check_limit(MAX_LIMIT + 1).is_err());
        assert_eq!(check_limit(MAX_LIMIT).unwrap(), MAX_LIMIT);
    }
}
