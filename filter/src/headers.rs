//! Request headers as the host hands them over, read in place.
//!
//! `proxy_get_header_map_pairs` returns one buffer in proxy-wasm's map serialization:
//!
//! ```text
//! u32 count | count × (u32 name_len, u32 value_len) | count × (name \0 value \0)
//! ```
//! (little-endian). The SDK's `get_map_bytes` copies every name and value into its own
//! `String`/`Vec` (two allocations per header, freed again at the end of the callback) and
//! panics on a malformed buffer. [`HeaderBlock`] keeps the buffer's data region as one
//! `String` (validated as UTF-8 once) and the offsets, so the engine matches on `&str`
//! slices of it, and a malformed buffer is an error (the
//! filter then refuses the request, fail closed). Names or values that are not UTF-8 are
//! converted lossily (U+FFFD), as before.

use std::ops::Range;

/// Where a name or value is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    /// At this byte range of [`HeaderBlock::text`].
    Text(Range<usize>),
    /// At this index of [`HeaderBlock::lossy`] (the block was not all UTF-8).
    Lossy(usize),
}

/// A serialized header map's names and values, and the position of every pair.
#[derive(Debug, Clone, Default)]
pub struct HeaderBlock {
    /// The buffer's data region (every `name \0 value \0`), validated as UTF-8 once.
    text: String,
    entries: Vec<(Part, Part)>,
    /// Lossy copies of every name and value when the data region is not UTF-8 (rare:
    /// obs-text in a header value).
    lossy: Vec<String>,
}

fn read_u32(buf: &[u8], at: usize) -> Option<usize> {
    let b = buf.get(at..at.checked_add(4)?)?;
    let b: [u8; 4] = b.try_into().ok()?;
    usize::try_from(u32::from_le_bytes(b)).ok()
}

impl HeaderBlock {
    /// Reads a buffer in proxy-wasm's map serialization (an empty buffer is an empty map).
    pub fn parse(mut buf: Vec<u8>) -> Result<HeaderBlock, String> {
        let mut block = HeaderBlock::default();
        if buf.is_empty() {
            return Ok(block);
        }
        let bad = |what: &str| format!("malformed header map: {what}");
        let count = read_u32(&buf, 0).ok_or_else(|| bad("no count"))?;
        let start = count
            .checked_mul(8)
            .and_then(|n| n.checked_add(4))
            .filter(|&n| n <= buf.len())
            .ok_or_else(|| bad("count larger than the buffer"))?;
        // Offsets into the data region: name_len, NUL, value_len, NUL per entry.
        let mut entries = Vec::with_capacity(count);
        let mut at = 0usize;
        let data_len = buf.len() - start;
        for i in 0..count {
            let (Some(name_len), Some(value_len)) =
                (read_u32(&buf, 4 + i * 8), read_u32(&buf, 8 + i * 8))
            else {
                return Err(bad("truncated sizes"));
            };
            let mut part = |len: usize| -> Result<Part, String> {
                let end = at
                    .checked_add(len)
                    .filter(|&e| e < data_len && buf.get(start + e) == Some(&0))
                    .ok_or_else(|| bad("entry past the end or not NUL-terminated"))?;
                let r = at..end;
                at = end + 1;
                Ok(Part::Text(r))
            };
            let name = part(name_len)?;
            let value = part(value_len)?;
            entries.push((name, value));
        }
        // The data region, moved to the front of the same allocation (no copy into a new one).
        buf.drain(..start);
        match String::from_utf8(buf) {
            // Nearly always: one validation for the whole block, then slices of it.
            Ok(text) => {
                block.text = text;
                block.entries = entries;
            }
            Err(e) => {
                let data = e.into_bytes();
                let mut lossy = |p: &mut Part| {
                    if let Part::Text(r) = p {
                        let b = data.get(r.clone()).unwrap_or_default();
                        block.lossy.push(String::from_utf8_lossy(b).into_owned());
                        *p = Part::Lossy(block.lossy.len() - 1);
                    }
                };
                for (k, v) in &mut entries {
                    lossy(k);
                    lossy(v);
                }
                block.entries = entries;
            }
        }
        Ok(block)
    }

    /// Parses the serialization of `pairs` (for tests and the mock host).
    pub fn from_pairs<K: AsRef<str>, V: AsRef<[u8]>>(pairs: &[(K, V)]) -> HeaderBlock {
        HeaderBlock::parse(HeaderBlock::serialize(pairs)).unwrap_or_default()
    }

    /// `pairs` in proxy-wasm's map serialization (also what the filter sends the host:
    /// local-reply headers).
    pub fn serialize<K: AsRef<str>, V: AsRef<[u8]>>(pairs: &[(K, V)]) -> Vec<u8> {
        let len = |n: usize| u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes();
        let size: usize = pairs
            .iter()
            .map(|(k, v)| 10 + k.as_ref().len() + v.as_ref().len())
            .sum();
        let mut buf = Vec::with_capacity(4 + size);
        buf.extend_from_slice(&len(pairs.len()));
        for (k, v) in pairs {
            buf.extend_from_slice(&len(k.as_ref().len()));
            buf.extend_from_slice(&len(v.as_ref().len()));
        }
        for (k, v) in pairs {
            buf.extend_from_slice(k.as_ref().as_bytes());
            buf.push(0);
            buf.extend_from_slice(v.as_ref());
            buf.push(0);
        }
        buf
    }

    fn str(&self, p: &Part) -> &str {
        match p {
            Part::Text(r) => self.text.get(r.clone()).unwrap_or(""),
            Part::Lossy(i) => self.lossy.get(*i).map_or("", String::as_str),
        }
    }

    /// Every `(name, value)`, in order, borrowed from the buffer.
    pub fn pairs(&self) -> Vec<(&str, &str)> {
        self.entries
            .iter()
            .map(|(k, v)| (self.str(k), self.str(v)))
            .collect()
    }

    /// Number of headers.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The SDK's own test vector (proxy-wasm 0.2.5 `hostcalls::utils::tests::SERIALIZED_MAP`).
    #[rustfmt::skip]
    const SERIALIZED: &[u8] = &[
        4, 0, 0, 0,
        7, 0, 0, 0, 3, 0, 0, 0,
        5, 0, 0, 0, 8, 0, 0, 0,
        10, 0, 0, 0, 11, 0, 0, 0,
        10, 0, 0, 0, 10, 0, 0, 0,
        58, 109, 101, 116, 104, 111, 100, 0,
        71, 69, 84, 0,
        58, 112, 97, 116, 104, 0,
        47, 98, 121, 116, 101, 115, 47, 49, 0,
        58, 97, 117, 116, 104, 111, 114, 105, 116, 121, 0,
        104, 116, 116, 112, 98, 105, 110, 46, 111, 114, 103, 0,
        80, 111, 119, 101, 114, 101, 100, 45, 66, 121, 0,
        112, 114, 111, 120, 121, 45, 119, 97, 115, 109, 0,
    ];

    const PAIRS: &[(&str, &str)] = &[
        (":method", "GET"),
        (":path", "/bytes/1"),
        (":authority", "httpbin.org"),
        ("Powered-By", "proxy-wasm"),
    ];

    #[test]
    fn reads_the_sdk_test_vector_and_writes_it_back() {
        let b = HeaderBlock::parse(SERIALIZED.to_vec()).unwrap();
        assert_eq!(b.pairs(), PAIRS);
        assert_eq!(b.len(), 4);
        let mut again = HeaderBlock::from_pairs(PAIRS);
        assert_eq!(again.pairs(), PAIRS);
        assert_eq!(
            std::mem::take(&mut again.text).as_bytes(),
            &SERIALIZED[36..]
        );
    }

    #[test]
    fn empty_maps() {
        assert!(HeaderBlock::parse(Vec::new()).unwrap().is_empty());
        assert!(HeaderBlock::parse(vec![0, 0, 0, 0]).unwrap().is_empty());
        assert!(HeaderBlock::from_pairs::<&str, &str>(&[]).is_empty());
    }

    #[test]
    fn repeated_and_empty_values_keep_their_order() {
        let p = [("a", ""), ("cookie", "x=1"), ("cookie", "y=2"), ("", "v")];
        assert_eq!(HeaderBlock::from_pairs(&p).pairs(), p);
    }

    #[test]
    fn non_utf8_is_converted_lossily() {
        let buf = vec![1, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, b'k', 0, 0xff, b'v', 0];
        let b = HeaderBlock::parse(buf).unwrap();
        assert_eq!(b.pairs(), [("k", "\u{fffd}v")]);
        // One bad value: every other header still reads (lossily copied).
        let mut p: Vec<(String, String)> = PAIRS
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        p.push(("x".into(), "ok".into()));
        let mut buf = HeaderBlock::serialize(&p);
        let last = buf.len() - 2; // the last value's last byte
        buf[last] = 0xfe;
        let b = HeaderBlock::parse(buf).unwrap();
        assert_eq!(b.pairs()[..4], *PAIRS);
        assert_eq!(b.pairs()[4], ("x", "o\u{fffd}"));
    }

    #[test]
    fn every_truncation_and_corruption_is_an_error_not_a_panic() {
        for cut in 1..SERIALIZED.len() {
            assert!(
                HeaderBlock::parse(SERIALIZED[..cut].to_vec()).is_err(),
                "{cut} bytes"
            );
        }
        // Every single-byte corruption either parses or is refused; none panics.
        for at in 0..SERIALIZED.len() {
            for v in [0u8, 1, 0x7f, 0x80, 0xff] {
                let mut b = SERIALIZED.to_vec();
                b[at] = v;
                if let Ok(h) = HeaderBlock::parse(b) {
                    let _ = h.pairs();
                }
            }
        }
        // A count that cannot fit.
        assert!(HeaderBlock::parse(vec![0xff, 0xff, 0xff, 0xff]).is_err());
        // Missing NUL terminator.
        assert!(
            HeaderBlock::parse(vec![1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, b'k', 1, b'v', 0]).is_err()
        );
    }
}
