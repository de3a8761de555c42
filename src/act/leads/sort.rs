//! Per-lead stage, ordering: lead journeys in walk order -> the same leads by first touch, then
//! visitor id, in bounded memory.
//!
//! Takes: one compact [`Rec`] per lead as the journey walk finds them (by visitor partition, not
//! by time). Gives: the records sorted by (first touch, visitor id, walk order) — exactly the
//! order a stable sort of the whole list gives — through [`Sorted`], an iterator that never holds
//! more than the budget: records are packed into one byte buffer (about 80 bytes plus the ids);
//! when it passes the budget it is sorted and written to an unnamed temporary file as a run, and
//! the runs are merged as they are read back.

use crate::error::{Error, Result};
use crate::events::Ts;
use crate::funnel::Reached;
use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, Write};

/// Default bytes of packed leads held in memory before a sorted run goes to a temporary file.
pub(crate) const SORT_BYTES: usize = 64 << 20;

/// Bytes of a record before its visitor and user ids.
const FIXED: usize = 8 + 8 + 2 + 4 + 5 * 8 + 8 + 4 + 2 + 2;
/// A stage time that was not reached.
const NONE: i64 = i64::MIN;

/// One lead as the sort keeps it: the journey's facts, partner and campaign as numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct Rec {
    pub start: Ts,
    /// Position in the walk: breaks ties between equal (start, visitor id) keys.
    pub seq: u64,
    pub partner: u16,
    pub campaign: u32,
    pub reached: Reached,
    pub revenue: f64,
    pub revenue_events: u32,
    pub visitor_id: String,
    pub user_id: Option<String>,
}

impl Rec {
    fn encode(&self, out: &mut Vec<u8>) {
        let user = self.user_id.as_deref().unwrap_or_default().as_bytes();
        let visitor = self.visitor_id.as_bytes();
        // Ids longer than a u16 cannot come from the packed walk (it stores u16 lengths).
        let (vlen, ulen) = (visitor.len().min(0xffff), user.len().min(0xffff));
        out.extend_from_slice(&self.start.0.to_le_bytes());
        out.extend_from_slice(&self.seq.to_le_bytes());
        out.extend_from_slice(&self.partner.to_le_bytes());
        out.extend_from_slice(&self.campaign.to_le_bytes());
        let r = &self.reached;
        for t in [r.click, r.visit, r.lead_magnet, r.cta, r.activation] {
            out.extend_from_slice(&t.map_or(NONE, |t| t.0).to_le_bytes());
        }
        out.extend_from_slice(&self.revenue.to_bits().to_le_bytes());
        out.extend_from_slice(&self.revenue_events.to_le_bytes());
        out.extend_from_slice(&(vlen as u16).to_le_bytes());
        out.extend_from_slice(&(ulen as u16).to_le_bytes());
        out.extend_from_slice(&visitor[..vlen]);
        out.extend_from_slice(&user[..ulen]);
    }

    fn decode(b: &[u8]) -> Rec {
        let i64_at = |o: usize| i64::from_le_bytes(b[o..o + 8].try_into().unwrap_or_default());
        let u32_at = |o: usize| u32::from_le_bytes(b[o..o + 4].try_into().unwrap_or_default());
        let u16_at = |o: usize| u16::from_le_bytes(b[o..o + 2].try_into().unwrap_or_default());
        let t = |o: usize| Some(Ts(i64_at(o))).filter(|t| t.0 != NONE);
        let (vlen, ulen) = (u16_at(FIXED - 4) as usize, u16_at(FIXED - 2) as usize);
        let text = |r: std::ops::Range<usize>| String::from_utf8_lossy(&b[r]).into_owned();
        Rec {
            start: Ts(i64_at(0)),
            seq: i64_at(8) as u64,
            partner: u16_at(16),
            campaign: u32_at(18),
            reached: Reached {
                click: t(22),
                visit: t(30),
                lead_magnet: t(38),
                cta: t(46),
                activation: t(54),
            },
            revenue: f64::from_bits(i64_at(62) as u64),
            revenue_events: u32_at(70),
            visitor_id: text(FIXED..FIXED + vlen),
            user_id: (ulen > 0).then(|| text(FIXED + vlen..FIXED + vlen + ulen)),
        }
    }

    /// The output order: first touch, visitor id, then walk order.
    pub fn cmp_key(&self, o: &Rec) -> Ordering {
        (self.start, self.visitor_id.as_bytes(), self.seq).cmp(&(
            o.start,
            o.visitor_id.as_bytes(),
            o.seq,
        ))
    }
}

/// An encoded record's length.
fn rec_len(b: &[u8]) -> usize {
    let u16_at = |o: usize| u16::from_le_bytes([b[o], b[o + 1]]) as usize;
    FIXED + u16_at(FIXED - 4) + u16_at(FIXED - 2)
}

/// The sort key of an encoded record.
fn enc_key(b: &[u8]) -> (i64, &[u8], u64) {
    let vlen = u16::from_le_bytes([b[FIXED - 4], b[FIXED - 3]]) as usize;
    (
        i64::from_le_bytes(b[0..8].try_into().unwrap_or_default()),
        &b[FIXED..FIXED + vlen],
        u64::from_le_bytes(b[8..16].try_into().unwrap_or_default()),
    )
}

/// Records pushed in any order, given back sorted (see the module doc).
pub(crate) struct Sorter {
    buf: Vec<u8>,
    /// Start offsets of the records in `buf`.
    index: Vec<u32>,
    runs: Vec<File>,
    budget: usize,
    len: usize,
}

impl Sorter {
    pub(crate) fn new(budget: usize) -> Sorter {
        Sorter {
            buf: Vec::new(),
            index: Vec::new(),
            runs: Vec::new(),
            // Offsets in the buffer are u32.
            budget: budget.clamp(1 << 10, 1 << 31),
            len: 0,
        }
    }

    /// How many records were pushed.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn push(&mut self, rec: &Rec) -> Result<()> {
        if !self.index.is_empty() && self.buf.len() + self.index.len() * 4 >= self.budget {
            self.spill()?;
        }
        self.index.push(self.buf.len() as u32);
        rec.encode(&mut self.buf);
        self.len += 1;
        Ok(())
    }

    fn sort_index(&mut self) {
        let buf = &self.buf;
        self.index.sort_unstable_by(|a, b| {
            enc_key(&buf[*a as usize..]).cmp(&enc_key(&buf[*b as usize..]))
        });
    }

    /// Sort what is in memory and write it to a new run file.
    fn spill(&mut self) -> Result<()> {
        self.sort_index();
        let io = |e| Error::io("cannot write a temporary file", e);
        let file =
            tempfile::tempfile().map_err(|e| Error::io("cannot create a temporary file", e))?;
        let mut w = BufWriter::with_capacity(1 << 16, file);
        for &off in &self.index {
            let b = &self.buf[off as usize..];
            w.write_all(&b[..rec_len(b)]).map_err(io)?;
        }
        let mut file = w.into_inner().map_err(|e| io(e.into_error()))?;
        file.rewind().map_err(io)?;
        self.runs.push(file);
        self.buf.clear();
        self.index.clear();
        Ok(())
    }

    /// Every record, in order.
    pub(crate) fn finish(mut self) -> Sorted {
        self.sort_index();
        let mut sources: Vec<Source> = self
            .runs
            .into_iter()
            .map(|f| Source::File(BufReader::with_capacity(1 << 16, f)))
            .collect();
        sources.push(Source::Mem {
            buf: self.buf,
            index: self.index,
            next: 0,
        });
        Sorted {
            sources,
            heads: BinaryHeap::new(),
            started: false,
        }
    }
}

enum Source {
    File(BufReader<File>),
    Mem {
        buf: Vec<u8>,
        index: Vec<u32>,
        next: usize,
    },
}

impl Source {
    fn next(&mut self) -> Result<Option<Rec>> {
        match self {
            Source::Mem { buf, index, next } => {
                let Some(&off) = index.get(*next) else {
                    return Ok(None);
                };
                *next += 1;
                Ok(Some(Rec::decode(&buf[off as usize..])))
            }
            Source::File(r) => {
                let io = |e| Error::io("cannot read a temporary file", e);
                let mut b = vec![0u8; FIXED];
                // A run ends at a record boundary: nothing left means done.
                let mut got = 0;
                while got < FIXED {
                    let n = r.read(&mut b[got..]).map_err(io)?;
                    if n == 0 {
                        break;
                    }
                    got += n;
                }
                if got == 0 {
                    return Ok(None);
                }
                if got < FIXED {
                    return Err(Error::Internal("a lead sort run was cut short".into()));
                }
                let rest = rec_len(&b) - FIXED;
                b.resize(FIXED + rest, 0);
                r.read_exact(&mut b[FIXED..]).map_err(io)?;
                Ok(Some(Rec::decode(&b)))
            }
        }
    }
}

/// One source's next record in the merge (the smallest on top of the heap).
struct Head(Rec, usize);

impl PartialEq for Head {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for Head {}
impl PartialOrd for Head {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Head {
    fn cmp(&self, o: &Self) -> Ordering {
        o.0.cmp_key(&self.0)
    }
}

/// The records of a [`Sorter`], merged in order.
pub(crate) struct Sorted {
    sources: Vec<Source>,
    heads: BinaryHeap<Head>,
    started: bool,
}

impl Iterator for Sorted {
    type Item = Result<Rec>;

    fn next(&mut self) -> Option<Result<Rec>> {
        if !self.started {
            self.started = true;
            for i in 0..self.sources.len() {
                match self.sources[i].next() {
                    Ok(Some(r)) => self.heads.push(Head(r, i)),
                    Ok(None) => {}
                    Err(e) => return Some(Err(e)),
                }
            }
        }
        let Head(rec, i) = self.heads.pop()?;
        match self.sources[i].next() {
            Ok(Some(r)) => self.heads.push(Head(r, i)),
            Ok(None) => {}
            Err(e) => return Some(Err(e)),
        }
        Some(Ok(rec))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(seq: u64, start: i64, visitor: &str, user: Option<&str>) -> Rec {
        Rec {
            start: Ts(start),
            seq,
            partner: (seq % 3) as u16,
            campaign: seq as u32,
            reached: Reached {
                click: Some(Ts(start)),
                visit: (seq % 2 == 0).then_some(Ts(start + 1)),
                lead_magnet: None,
                cta: (seq % 5 == 0).then_some(Ts(-7)),
                activation: None,
            },
            revenue: seq as f64 / 3.0,
            revenue_events: seq as u32 % 4,
            visitor_id: visitor.into(),
            user_id: user.map(str::to_string),
        }
    }

    #[test]
    fn a_record_reads_back_what_it_encodes() {
        for r in [
            rec(
                7,
                1_763_000_000_000,
                "3f2b9c1e-7d7a-4b59-9a43-0c1b2f8e6a10",
                Some("acct-42"),
            ),
            rec(0, -5, "", None),
            rec(10, 0, "zoë|x", Some("u")),
        ] {
            let mut b = vec![9u8];
            r.encode(&mut b);
            assert_eq!(rec_len(&b[1..]), b.len() - 1);
            assert_eq!(Rec::decode(&b[1..]), r);
        }
    }

    /// Over a budget that forces many runs, the merge gives what one stable sort gives.
    #[test]
    fn spilled_runs_merge_into_the_order_of_one_stable_sort() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut recs = Vec::new();
        for seq in 0..5_000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let visitor = format!("v{}", x % 40);
            let user = (x % 3 == 0).then(|| format!("acct-{}", x % 11));
            recs.push(rec(seq, (x % 50) as i64, &visitor, user.as_deref()));
        }
        for budget in [1 << 10, 64 << 20] {
            let mut s = Sorter::new(budget);
            for r in &recs {
                s.push(r).unwrap();
            }
            assert_eq!(s.len(), recs.len());
            assert_eq!(s.runs.is_empty(), budget > 1 << 20, "budget {budget}");
            let got: Vec<Rec> = s.finish().map(|r| r.unwrap()).collect();
            let mut want = recs.clone();
            want.sort_by(|a, b| (a.start, &a.visitor_id).cmp(&(b.start, &b.visitor_id)));
            assert_eq!(got, want, "budget {budget}");
        }
    }
}
