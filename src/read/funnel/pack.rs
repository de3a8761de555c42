//! Funnel stage helper, packing: source rows -> compact packed rows in visitor partitions, and
//! back.
//!
//! Takes: [`Row`]s of one scan part (each part packs on its own thread). Gives: packed rows in a
//! [`Store`] and the rows set apart ([`Excluded`] counts); then, per partition, the rows
//! unpacked as [`Rec`]s for the attribution walk.
//!
//! What keeps it cheap per row: a visitor id in the canonical lowercase UUID form (what the
//! beacon writes) becomes a 128-bit number — no string kept, no string hashed; any other id is
//! kept as bytes. Partner codes are found by a small fast hash, campaign names interned to
//! integers per part (renumbered in name order after the scan, so the result does not depend
//! on how the scan was split), and a timestamp's date is parsed once per day, not per row.

use super::buckets::{Store, PARTITIONS};
use super::journey::{Excluded, Stage, KIND_COUNT_ONLY, KIND_REVENUE};
use super::Range;
use crate::error::{Error, Result};
use crate::events::{DateCache, Row, Ts};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A small fast hasher (the Fx hash of rustc) for short keys that are not attacker-chosen in a
/// way that matters here: partner codes and campaign names of the rows read.
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher(u64);

const FX_K: u64 = 0x517c_c1b7_2722_0a95;

impl FxHasher {
    #[inline]
    fn add(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(FX_K);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, mut b: &[u8]) {
        while b.len() >= 8 {
            self.add(u64::from_le_bytes([
                b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
            ]));
            b = &b[8..];
        }
        if b.len() >= 4 {
            self.add(u64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]])));
            b = &b[4..];
        }
        for &c in b {
            self.add(u64::from(c));
        }
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

pub(crate) type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

// Packed row: a 32-byte head (u64 key_hi, u64 key_lo, i64 time, u32 campaign of the part,
// u16 partner, u8 kind, u8 flags), then [u16 len + visitor id bytes if F_STR], [f64 value if
// F_VALUE], [u16 len + user id bytes if F_USER]. Little endian.
const HEAD: usize = 32;
const F_VALUE: u8 = 1;
const F_USER: u8 = 2;
const F_STR: u8 = 4;

/// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` in lowercase hex as a number (its order is the text's
/// order). Anything else (uppercase, braces, another id scheme) is not: it stays text, so two
/// spellings of one UUID stay two visitors, as they are in the table.
#[inline]
pub(crate) fn uuid(b: &[u8]) -> Option<(u64, u64)> {
    let b: &[u8; 36] = b.try_into().ok()?;
    if b[8] != b'-' || b[13] != b'-' || b[18] != b'-' || b[23] != b'-' {
        return None;
    }
    // Branch-free: a table lookup per digit, 0x80 marks a byte that is not a lowercase digit.
    let mut bad = 0u8;
    let mut words = [0u64; 2];
    for (w, pos) in words.iter_mut().zip([&HEX_POS[..16], &HEX_POS[16..]]) {
        for &i in pos {
            let d = HEX[b[i] as usize];
            bad |= d;
            *w = (*w << 4) | u64::from(d & 0x0F);
        }
    }
    (bad & 0x80 == 0).then_some((words[0], words[1]))
}

/// Where the 32 hex digits of a UUID's text are.
const HEX_POS: [usize; 32] = [
    0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 14, 15, 16, 17, 19, 20, 21, 22, 24, 25, 26, 27, 28, 29,
    30, 31, 32, 33, 34, 35,
];

/// Lowercase hex digit values; 0x80 for every other byte.
const HEX: [u8; 256] = {
    let mut t = [0x80u8; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'a' as usize + i] = 10 + i as u8;
        i += 1;
    }
    t
};

/// The canonical text of a UUID read by [`uuid`].
pub(crate) fn uuid_text(hi: u64, lo: u64) -> String {
    let h = format!("{hi:016x}{lo:016x}");
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

#[inline]
fn uuid_partition(hi: u64, lo: u64) -> usize {
    // UUIDv7 ids share their leading bits: mix both halves before taking the top byte.
    ((hi ^ lo.rotate_left(29)).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56) as usize % PARTITIONS
}

#[inline]
fn text_partition(b: &[u8]) -> usize {
    let mut h = FxHasher::default();
    h.write(b);
    (h.finish().wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56) as usize % PARTITIONS
}

/// Rows set apart by one part, counted without an allocation per row.
#[derive(Default)]
struct Apart {
    invalid_time_rows: u64,
    unknown_partner_rows: FxMap<String, u64>,
    no_visitor_rows: FxMap<String, u64>,
    unknown_event_rows: FxMap<String, u64>,
}

fn bump(map: &mut FxMap<String, u64>, key: &str) {
    match map.get_mut(key) {
        Some(n) => *n += 1,
        None => {
            map.insert(key.to_string(), 1);
        }
    }
}

/// Packs the rows of one scan part.
pub(crate) struct Packer<'a> {
    partners: &'a FxMap<&'a str, u16>,
    campaigns: Vec<String>,
    campaign_index: FxMap<String, u32>,
    last_campaign: Option<u32>,
    dates: DateCache,
    read_start: Ts,
    range: Range,
    apart: Apart,
    /// Rows read whose partner code is in the registry.
    known_rows: u64,
    /// Time of the newest row read (ms; `i64::MIN`: none).
    newest: i64,
    pub store: Store,
}

impl<'a> Packer<'a> {
    pub(super) fn new(
        partners: &'a FxMap<&'a str, u16>,
        read_start: Ts,
        range: Range,
        budget: usize,
    ) -> Packer<'a> {
        Packer {
            partners,
            campaigns: Vec::new(),
            campaign_index: FxMap::default(),
            last_campaign: None,
            dates: DateCache::default(),
            read_start,
            range,
            apart: Apart::default(),
            known_rows: 0,
            newest: i64::MIN,
            store: Store::new(budget),
        }
    }

    fn campaign(&mut self, name: &str) -> u32 {
        if let Some(i) = self.last_campaign {
            if self.campaigns[i as usize] == name {
                return i;
            }
        }
        let i = match self.campaign_index.get(name) {
            Some(i) => *i,
            None => {
                let i = self.campaigns.len() as u32;
                self.campaigns.push(name.to_string());
                self.campaign_index.insert(name.to_string(), i);
                i
            }
        };
        self.last_campaign = Some(i);
        i
    }

    /// Rows read whose partner code is in the registry.
    pub(super) fn known_rows(&self) -> u64 {
        self.known_rows
    }

    /// Time of the newest row read, if any.
    pub(super) fn newest(&self) -> Option<i64> {
        (self.newest > i64::MIN).then_some(self.newest)
    }

    /// The packed rows.
    pub(super) fn into_store(self) -> Store {
        self.store
    }

    /// The campaign names of this part, by their number in its packed rows.
    pub(super) fn campaigns(&self) -> &[String] {
        &self.campaigns
    }

    /// Pack one row (or count it apart). The rules are those of `journey.rs`'s module doc.
    #[inline]
    pub(super) fn row(&mut self, r: Row<'_>) -> Result<()> {
        // Payments and refunds are read by the revenue section, not the funnel.
        if crate::stage::is_money_row(r.event_name) {
            return Ok(());
        }
        let Some(t) = Ts::parse_cached(r.created_at, &mut self.dates) else {
            self.apart.invalid_time_rows += 1;
            return Ok(());
        };
        // Rows up to `as_of` are read: the cohort's later steps happen after the range's end.
        if t < self.read_start || t >= self.range.as_of {
            return Ok(());
        }
        self.newest = self.newest.max(t.0);
        let in_range = t >= self.range.start && t < self.range.end;
        let (partner, kind) = match self.partners.get(r.partner_code) {
            None => {
                if in_range {
                    bump(&mut self.apart.unknown_partner_rows, r.partner_code);
                }
                (u16::MAX, KIND_COUNT_ONLY)
            }
            Some(&p) => {
                self.known_rows += 1;
                if r.visitor_id.is_none() {
                    if in_range {
                        bump(&mut self.apart.no_visitor_rows, r.partner_code);
                    }
                    return Ok(());
                }
                let kind = match r.event_name {
                    "click" => Stage::Click as u8,
                    "visit" => Stage::Visit as u8,
                    "lead_magnet" => Stage::LeadMagnet as u8,
                    "cta" => Stage::Cta as u8,
                    "activation" => Stage::Activation as u8,
                    crate::stage::REVENUE => KIND_REVENUE,
                    other => {
                        if in_range {
                            bump(&mut self.apart.unknown_event_rows, other);
                        }
                        KIND_COUNT_ONLY
                    }
                };
                (p, kind)
            }
        };
        let Some(vid) = r.visitor_id else {
            return Ok(());
        };
        let vid = vid.as_bytes();
        let campaign = if kind == KIND_COUNT_ONLY {
            0
        } else {
            self.campaign(r.campaign)
        };
        let user = r
            .user_id
            .filter(|u| !u.is_empty())
            .map(|u| &u.as_bytes()[..u.len().min(u16::MAX as usize)]);
        let (key, part, text) = match uuid(vid) {
            Some((hi, lo)) => ((hi, lo), uuid_partition(hi, lo), None),
            None => {
                let v = &vid[..vid.len().min(u16::MAX as usize)];
                ((0, 0), text_partition(v), Some(v))
            }
        };
        let flags = if r.value.is_some() { F_VALUE } else { 0 }
            | if user.is_some() { F_USER } else { 0 }
            | if text.is_some() { F_STR } else { 0 };
        let buf = self.store.buf(part);
        let cap_before = buf.capacity();
        let mut head = [0u8; HEAD];
        head[0..8].copy_from_slice(&key.0.to_le_bytes());
        head[8..16].copy_from_slice(&key.1.to_le_bytes());
        head[16..24].copy_from_slice(&t.0.to_le_bytes());
        head[24..28].copy_from_slice(&campaign.to_le_bytes());
        head[28..30].copy_from_slice(&partner.to_le_bytes());
        head[30] = kind;
        head[31] = flags;
        buf.extend_from_slice(&head);
        if let Some(v) = text {
            buf.extend_from_slice(&(v.len() as u16).to_le_bytes());
            buf.extend_from_slice(v);
        }
        if let Some(v) = r.value {
            buf.extend_from_slice(&v.to_le_bytes());
        }
        if let Some(u) = user {
            buf.extend_from_slice(&(u.len() as u16).to_le_bytes());
            buf.extend_from_slice(u);
        }
        self.store.wrote(part, cap_before)
    }

    /// Add what this part set apart to `ex`.
    pub(super) fn count_apart(&mut self, ex: &mut Excluded) {
        let a = std::mem::take(&mut self.apart);
        ex.invalid_time_rows += a.invalid_time_rows;
        for (map, into) in [
            (a.unknown_partner_rows, &mut ex.unknown_partner_rows),
            (a.no_visitor_rows, &mut ex.no_visitor_rows),
            (a.unknown_event_rows, &mut ex.unknown_event_rows),
        ] {
            for (k, n) in map {
                *into.entry(k).or_default() += n;
            }
        }
    }
}

/// A packed row unpacked, pointing into its partition's buffer.
#[derive(Clone, Copy)]
pub(crate) struct Rec {
    /// The visitor: a UUID's two halves (`text == false`), or `(0, rank of its text id in the
    /// partition)`.
    pub hi: u64,
    pub lo: u64,
    pub time: i64,
    pub value: f64,
    pub campaign: u32,
    /// Byte range of the user id in the partition buffer (`len == 0`: none).
    pub user: (u32, u16),
    pub partner: u16,
    pub kind: u8,
    pub text: bool,
}

/// A placeholder row (to size buffers).
pub(crate) const EMPTY_REC: Rec = Rec {
    hi: 0,
    lo: 0,
    time: 0,
    value: 0.0,
    campaign: 0,
    user: (0, 0),
    partner: 0,
    kind: 0,
    text: false,
};

impl Rec {
    /// The same visitor.
    #[inline]
    pub(super) fn same_visitor(&self, o: &Rec) -> bool {
        self.hi == o.hi && self.lo == o.lo && self.text == o.text
    }
}

fn corrupt() -> Error {
    Error::Internal("a packed partition is truncated".into())
}

/// Unpack `buf[range]` (rows packed by one part, whose campaign numbers `remap` renumbers) into
/// `recs`; text visitor ids go to `texts` as (byte offset, length), `Rec::lo` their index there.
pub(crate) fn unpack(
    buf: &[u8],
    range: std::ops::Range<usize>,
    remap: &[u32],
    recs: &mut Vec<Rec>,
    texts: &mut Vec<(u32, u16)>,
) -> Result<()> {
    let mut i = range.start;
    let end = range.end;
    let u16_at = |i: usize| -> Result<u16> {
        let b = buf.get(i..i + 2).ok_or_else(corrupt)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    };
    while i < end {
        let h: &[u8; HEAD] = buf
            .get(i..i + HEAD)
            .and_then(|s| s.try_into().ok())
            .ok_or_else(corrupt)?;
        let word = |a: usize| u64::from_le_bytes(h[a..a + 8].try_into().unwrap_or([0; 8]));
        let (mut hi, mut lo) = (word(0), word(8));
        let time = word(16) as i64;
        let local = u32::from_le_bytes([h[24], h[25], h[26], h[27]]);
        let partner = u16::from_le_bytes([h[28], h[29]]);
        let (kind, flags) = (h[30], h[31]);
        i += HEAD;
        let text = flags & F_STR != 0;
        if text {
            let len = u16_at(i)?;
            texts.push(((i + 2) as u32, len));
            (hi, lo) = (0, (texts.len() - 1) as u64);
            i += 2 + len as usize;
        }
        let mut value = 0.0;
        if flags & F_VALUE != 0 {
            let b = buf.get(i..i + 8).ok_or_else(corrupt)?;
            value = f64::from_le_bytes(b.try_into().map_err(|_| corrupt())?);
            i += 8;
        }
        let mut user = (0u32, 0u16);
        if flags & F_USER != 0 {
            let len = u16_at(i)?;
            user = ((i + 2) as u32, len);
            i += 2 + len as usize;
        }
        if i > end {
            return Err(corrupt());
        }
        let campaign = if kind == KIND_COUNT_ONLY {
            0
        } else {
            *remap.get(local as usize).ok_or_else(corrupt)?
        };
        recs.push(Rec {
            hi,
            lo,
            time,
            value,
            campaign,
            user,
            partner,
            kind,
            text,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_numbers_keep_the_text_and_its_order() {
        let a = "01a1e6cd-cc73-7001-8000-dca0ca3b0dda";
        let b = "d87905fe-5dfd-4b9c-982b-87d0bdabd04e";
        let (ua, ub) = (uuid(a.as_bytes()).unwrap(), uuid(b.as_bytes()).unwrap());
        assert_eq!(uuid_text(ua.0, ua.1), a);
        assert_eq!(uuid_text(ub.0, ub.1), b);
        assert!(ua < ub);
    }

    #[test]
    fn other_spellings_are_not_uuids() {
        for s in [
            "D87905FE-5DFD-4B9C-982B-87D0BDABD04E",
            "{d87905fe-5dfd-4b9c-982b-87d0bdabd04e}",
            "d87905fe5dfd4b9c982b87d0bdabd04e",
            "d87905fe-5dfd-4b9c-982b-87d0bdabd04g",
            "visitor-1",
            "",
        ] {
            assert_eq!(uuid(s.as_bytes()), None, "{s}");
        }
    }
}
