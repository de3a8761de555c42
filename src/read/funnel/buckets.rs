//! Funnel stage helper: the visitor partitions of one scan part — packed rows spread over
//! [`PARTITIONS`] partitions by a hash of the visitor id, kept in memory up to a budget, then
//! appended in chunks to one unnamed temporary file.
//!
//! Takes: packed rows (see `pack.rs`) with their partition. Gives: one partition's bytes at a
//! time (every row of a visitor is in the same partition), so the attribution stage holds one
//! partition, whatever the size of the table.

use crate::error::{Error, Result};
use std::fs::File;
use std::io::Write;

/// Number of partitions rows are spread over by visitor id.
pub(crate) const PARTITIONS: usize = 256;
/// Once spilling, a partition's bytes go to the file in chunks of about this size.
const CHUNK: usize = 64 << 10;

/// The packed-row partitions of one scan part.
pub(crate) struct Store {
    /// Per partition: bytes not (yet) in the file.
    mem: Vec<Vec<u8>>,
    /// Per partition: (offset, length) of its chunks in the file, in write order.
    chunks: Vec<Vec<(u64, usize)>>,
    file: Option<File>,
    file_len: u64,
    /// Bytes the in-memory buffers hold (their capacity: growth doubles them).
    held: usize,
    budget: usize,
}

impl Store {
    pub(super) fn new(budget: usize) -> Store {
        Store {
            mem: (0..PARTITIONS).map(|_| Vec::new()).collect(),
            chunks: (0..PARTITIONS).map(|_| Vec::new()).collect(),
            file: None,
            file_len: 0,
            held: 0,
            budget,
        }
    }

    /// Partition `p`'s buffer, to append one packed row to; then call [`Store::wrote`].
    #[inline]
    pub(super) fn buf(&mut self, p: usize) -> &mut Vec<u8> {
        &mut self.mem[p]
    }

    /// A row was appended to partition `p`, whose buffer held `cap_before` bytes before.
    #[inline]
    pub(super) fn wrote(&mut self, p: usize, cap_before: usize) -> Result<()> {
        if self.file.is_some() {
            if self.mem[p].len() >= CHUNK {
                self.flush(p)?;
            }
            return Ok(());
        }
        let cap = self.mem[p].capacity();
        if cap != cap_before {
            self.held = self.held + cap - cap_before;
            if self.held > self.budget {
                self.spill()?;
            }
        }
        Ok(())
    }

    /// Whether rows went to the temporary file.
    #[cfg(test)]
    pub(super) fn spilled(&self) -> bool {
        self.file.is_some()
    }

    fn spill(&mut self) -> Result<()> {
        let file =
            tempfile::tempfile().map_err(|e| Error::io("cannot create a temporary file", e))?;
        self.file = Some(file);
        for p in 0..PARTITIONS {
            self.flush(p)?;
            // Room for a chunk and the row that completes it: no regrowth from here on.
            self.mem[p] = Vec::with_capacity(CHUNK + (128 << 10));
        }
        Ok(())
    }

    fn flush(&mut self, p: usize) -> Result<()> {
        let bytes = &mut self.mem[p];
        if bytes.is_empty() {
            return Ok(());
        }
        let Some(file) = self.file.as_mut() else {
            return Ok(());
        };
        file.write_all(bytes)
            .map_err(|e| Error::io("cannot write a temporary file", e))?;
        self.chunks[p].push((self.file_len, bytes.len()));
        self.file_len += bytes.len() as u64;
        bytes.clear();
        Ok(())
    }

    /// Each partition's share, owned, so partitions can be read on several threads (with the
    /// file, when rows went there).
    pub(super) fn into_pieces(self) -> (Option<File>, Vec<Piece>) {
        let pieces = self
            .chunks
            .into_iter()
            .zip(self.mem)
            .map(|(chunks, mem)| Piece { chunks, mem })
            .collect();
        (self.file, pieces)
    }
}

/// One partition's rows from one [`Store`]: chunks in its file, then bytes in memory.
pub(crate) struct Piece {
    chunks: Vec<(u64, usize)>,
    mem: Vec<u8>,
}

impl Piece {
    /// Append the rows to `out` (`file`: the store's, when it spilled).
    pub(super) fn read(self, file: Option<&File>, out: &mut Vec<u8>) -> Result<()> {
        if let Some(file) = file {
            for &(off, len) in &self.chunks {
                let start = out.len();
                out.resize(start + len, 0);
                read_at(file, &mut out[start..], off)
                    .map_err(|e| Error::io("cannot read a temporary file", e))?;
            }
        }
        out.extend_from_slice(&self.mem);
        Ok(())
    }
}

#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8], off: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, off)
}

#[cfg(not(unix))]
fn read_at(file: &File, buf: &mut [u8], off: u64) -> std::io::Result<()> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = file;
    f.seek(SeekFrom::Start(off))?;
    f.read_exact(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn push(s: &mut Store, p: usize, row: &[u8]) {
        let cap = s.buf(p).capacity();
        s.buf(p).extend_from_slice(row);
        s.wrote(p, cap).unwrap();
    }

    #[test]
    fn over_budget_rows_go_to_the_file_and_come_back_in_order() {
        let mut s = Store::new(4 << 10);
        let mut expected = vec![Vec::new(); 3];
        for i in 0..100_000u32 {
            let p = (i % 3) as usize;
            let row = i.to_le_bytes();
            push(&mut s, p, &row);
            expected[p].extend_from_slice(&row);
        }
        assert!(s.spilled());
        let (file, pieces) = s.into_pieces();
        for (p, piece) in pieces.into_iter().enumerate().take(3) {
            let mut got = vec![7u8];
            piece.read(file.as_ref(), &mut got).unwrap();
            assert_eq!(&got[1..], &expected[p][..], "partition {p}");
        }
    }

    #[test]
    fn under_budget_rows_stay_in_memory() {
        let mut s = Store::new(64 << 20);
        push(&mut s, 5, b"abc");
        assert!(!s.spilled());
        let (file, mut pieces) = s.into_pieces();
        let mut got = Vec::new();
        pieces.swap_remove(5).read(file.as_ref(), &mut got).unwrap();
        assert_eq!(got, b"abc");
    }
}
