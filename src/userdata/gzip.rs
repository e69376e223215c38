//! Gzip as Python's `gzip.GzipFile(...).read()` reads it (what cloud-init's
//! `util.decomp_gzip` calls), with a bound on the output so that a small input cannot
//! expand without limit.
//!
//! Python's rules, all kept: every member must start with the magic bytes and method 8
//! (deflate); `FEXTRA`, `FNAME`, `FCOMMENT` and `FHCRC` fields are skipped (the header
//! CRC is not checked) and reserved flag bits ignored; each member's CRC-32 and length
//! must match; members are concatenated; zero bytes between or after members are
//! skipped; anything else after a member, or a truncated member, fails the whole read.
//! Empty input reads as empty.

use flate2::{Crc, Decompress, FlushDecompress, Status};

const MAGIC: [u8; 2] = [0x1f, 0x8b];
const FHCRC: u8 = 0x02;
const FEXTRA: u8 = 0x04;
const FNAME: u8 = 0x08;
const FCOMMENT: u8 = 0x10;

/// Why a gzip read failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum GzipError {
    /// Not gzip, or damaged: Python raises, and cloud-init then keeps the bytes as they
    /// are (whole input) or gives up on the part (a MIME part of a gzip type).
    Invalid(&'static str),
    /// The output would pass the remaining budget (bytes).
    TooLarge,
}

/// True when `data` starts with the gzip magic bytes.
pub(crate) fn has_magic(data: &[u8]) -> bool {
    data.starts_with(&MAGIC)
}

/// Decompresses every member of `data`, failing as soon as the output would exceed
/// `budget` bytes.
pub(crate) fn decompress(data: &[u8], budget: usize) -> Result<Vec<u8>, GzipError> {
    let mut out = Vec::new();
    let mut pos = 0;
    loop {
        if pos == data.len() {
            return Ok(out);
        }
        if data.len() - pos < 2 || data[pos..pos + 2] != MAGIC {
            return Err(GzipError::Invalid("not a gzip member"));
        }
        pos = skip_header(data, pos)?;
        let start = out.len();
        pos = inflate(data, pos, &mut out, budget)?;
        let trailer = data
            .get(pos..pos + 8)
            .ok_or(GzipError::Invalid("truncated trailer"))?;
        let mut crc = Crc::new();
        crc.update(&out[start..]);
        let expected_crc = u32::from_le_bytes([trailer[0], trailer[1], trailer[2], trailer[3]]);
        let expected_len = u32::from_le_bytes([trailer[4], trailer[5], trailer[6], trailer[7]]);
        if crc.sum() != expected_crc {
            return Err(GzipError::Invalid("CRC check failed"));
        }
        // ISIZE is the length modulo 2^32.
        if (out.len() - start) as u64 & 0xffff_ffff != u64::from(expected_len) {
            return Err(GzipError::Invalid("length check failed"));
        }
        pos += 8;
        while data.get(pos) == Some(&0) {
            pos += 1;
        }
    }
}

/// Returns the offset of the deflate data of the member whose header starts at `pos`.
fn skip_header(data: &[u8], pos: usize) -> Result<usize, GzipError> {
    let truncated = GzipError::Invalid("truncated header");
    let fixed = data.get(pos..pos + 10).ok_or(truncated.clone())?;
    if fixed[2] != 8 {
        return Err(GzipError::Invalid("unknown compression method"));
    }
    let flags = fixed[3];
    let mut at = pos + 10;
    if flags & FEXTRA != 0 {
        let len = data.get(at..at + 2).ok_or(truncated.clone())?;
        at += 2 + usize::from(u16::from_le_bytes([len[0], len[1]]));
    }
    for field in [FNAME, FCOMMENT] {
        if flags & field != 0 {
            let rest = data.get(at..).ok_or(truncated.clone())?;
            let end = rest.iter().position(|&b| b == 0).ok_or(truncated.clone())?;
            at += end + 1;
        }
    }
    if flags & FHCRC != 0 {
        at += 2;
    }
    if at > data.len() {
        return Err(truncated);
    }
    Ok(at)
}

/// Inflates the raw deflate stream at `pos` into `out`; returns the offset after it.
fn inflate(data: &[u8], pos: usize, out: &mut Vec<u8>, budget: usize) -> Result<usize, GzipError> {
    const CHUNK: usize = 64 * 1024;
    let mut inflater = Decompress::new(false);
    let mut buf = vec![0u8; CHUNK];
    loop {
        let consumed = usize::try_from(inflater.total_in()).map_err(|_| GzipError::TooLarge)?;
        let input = &data[pos + consumed..];
        let before_out = inflater.total_out();
        let before_in = inflater.total_in();
        let status = inflater
            .decompress(input, &mut buf, FlushDecompress::None)
            .map_err(|_| GzipError::Invalid("invalid deflate data"))?;
        let produced = usize::try_from(inflater.total_out() - before_out).map_err(|_| GzipError::TooLarge)?;
        if out.len() + produced > budget {
            return Err(GzipError::TooLarge);
        }
        out.extend_from_slice(&buf[..produced]);
        match status {
            Status::StreamEnd => {
                let used = usize::try_from(inflater.total_in()).map_err(|_| GzipError::TooLarge)?;
                return Ok(pos + used);
            }
            _ if produced == 0 && inflater.total_in() == before_in => {
                return Err(GzipError::Invalid("compressed data ended early"));
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::Compression;
    use flate2::write::GzEncoder;
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut enc = GzEncoder::new(Vec::new(), Compression::default());
        enc.write_all(data).expect("in-memory write");
        enc.finish().expect("in-memory write")
    }

    #[test]
    fn reads_members_and_padding_like_python() {
        let one = gz(b"hello");
        assert_eq!(decompress(&one, 100).as_deref(), Ok(&b"hello"[..]));
        let two = [one.clone(), one.clone()].concat();
        assert_eq!(decompress(&two, 100).as_deref(), Ok(&b"hellohello"[..]));
        let padded = [one.clone(), vec![0, 0, 0]].concat();
        assert_eq!(decompress(&padded, 100).as_deref(), Ok(&b"hello"[..]));
        assert_eq!(decompress(b"", 100).as_deref(), Ok(&b""[..]));
    }

    #[test]
    fn refuses_what_python_refuses() {
        let one = gz(b"hello");
        for bad in [
            [one.clone(), b"x".to_vec()].concat(),
            [one.clone(), vec![0x1f]].concat(),
            one[..one.len() - 1].to_vec(),
            one[..12].to_vec(),
            MAGIC.to_vec(),
            b"\x1f".to_vec(),
        ] {
            assert!(
                matches!(decompress(&bad, 100), Err(GzipError::Invalid(_))),
                "{bad:?}"
            );
        }
        let mut crc = one.clone();
        let at = crc.len() - 5;
        crc[at] ^= 1;
        assert_eq!(decompress(&crc, 100), Err(GzipError::Invalid("CRC check failed")));
        let mut reserved = one.clone();
        reserved[3] |= 0xe0;
        assert_eq!(decompress(&reserved, 100).as_deref(), Ok(&b"hello"[..]));
    }

    #[test]
    fn stops_at_the_budget() {
        let big = gz(&vec![0u8; 1 << 20]);
        assert_eq!(decompress(&big, 1000), Err(GzipError::TooLarge));
        assert_eq!(decompress(&big, 1 << 20).map(|v| v.len()), Ok(1 << 20));
    }
}
