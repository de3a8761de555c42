//! Funnel stage helper: the visitor buckets of one scan — rows packed into bytes, spread by a
//! hash of the visitor id, kept in memory up to a budget and then in unnamed temporary files.
//!
//! Takes: packed rows. Gives: one bucket's bytes at a time (every row of a visitor is in the
//! same bucket), so memory is one bucket whatever the size of the table.

use super::journey::PARTITIONS;
use crate::error::{Error, Result};
use std::io::{BufWriter, Read, Seek, Write};

pub(crate) enum Bucket {
    Mem(Vec<u8>),
    File(BufWriter<std::fs::File>),
}

/// The packed-row buckets of one scan.
pub(crate) struct Buckets {
    parts: Vec<Bucket>,
    buffered: usize,
    budget: usize,
}

impl Buckets {
    pub fn new(budget: usize) -> Buckets {
        Buckets {
            parts: (0..PARTITIONS).map(|_| Bucket::Mem(Vec::new())).collect(),
            buffered: 0,
            budget,
        }
    }

    pub fn push(&mut self, vid: &[u8], rec: &[u8]) -> Result<()> {
        let p = (fnv1a(vid) % PARTITIONS as u64) as usize;
        match &mut self.parts[p] {
            Bucket::Mem(v) => {
                v.extend_from_slice(rec);
                self.buffered += rec.len();
                if self.buffered > self.budget {
                    self.spill()?;
                }
            }
            Bucket::File(w) => w
                .write_all(rec)
                .map_err(|e| Error::io("cannot write a temporary file", e))?,
        }
        Ok(())
    }

    fn spill(&mut self) -> Result<()> {
        for part in &mut self.parts {
            if let Bucket::Mem(v) = part {
                let file = tempfile::tempfile()
                    .map_err(|e| Error::io("cannot create a temporary file", e))?;
                let mut w = BufWriter::with_capacity(256 << 10, file);
                w.write_all(v)
                    .map_err(|e| Error::io("cannot write a temporary file", e))?;
                *part = Bucket::File(w);
            }
        }
        self.buffered = 0;
        Ok(())
    }

    /// Bucket `i`'s bytes (the bucket is emptied).
    pub fn take(&mut self, i: usize) -> Result<Vec<u8>> {
        match std::mem::replace(&mut self.parts[i], Bucket::Mem(Vec::new())) {
            Bucket::Mem(v) => Ok(v),
            Bucket::File(w) => {
                let mut f = w
                    .into_inner()
                    .map_err(|e| Error::io("cannot write a temporary file", e.into_error()))?;
                f.rewind()
                    .map_err(|e| Error::io("cannot read a temporary file", e))?;
                let mut v = Vec::new();
                f.read_to_end(&mut v)
                    .map_err(|e| Error::io("cannot read a temporary file", e))?;
                Ok(v)
            }
        }
    }
}

pub(crate) fn fnv1a(b: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &c in b {
        h ^= u64::from(c);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

// Packed row: u16 vid_len, vid, i64 time, u16 partner, u32 campaign, u8 kind, u8 flags,
// [f64 value if flags&1], [u16 len, user bytes if flags&2].
pub(crate) const F_VALUE: u8 = 1;
pub(crate) const F_USER: u8 = 2;

/// A packed row unpacked, pointing into its bucket buffer.
#[derive(Clone, Copy)]
pub(crate) struct Rec {
    pub visitor: u32,
    pub time: i64,
    pub campaign: u32,
    pub partner: u16,
    pub kind: u8,
    pub value: f64,
    pub user: (u32, u16),
}
