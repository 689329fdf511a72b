//! Request headers as the host hands them over, read in place.
//!
//! `proxy_get_header_map_pairs` returns one buffer in proxy-wasm's map serialization:
//!
//! ```text
//! u32 count | count × (u32 name_len, u32 value_len) | count × (name \0 value \0)
//! ```
//! (little-endian). The SDK's `get_map_bytes` copies every name and value into its own
//! `String`/`Vec` (two allocations per header, freed again at the end of the callback) and
//! panics on a malformed buffer. [`HeaderBlock`] keeps the host's buffer as it came and
//! checks its sizes; [`HeaderBlock::pairs`] validates the data region as UTF-8 once and
//! slices every name and value out of it (one `Vec`, no copies), so the engine matches on
//! `&str` slices of the host's bytes. A malformed buffer is an error (the filter then
//! refuses the request, fail closed). Names or values that are not UTF-8 are
//! converted lossily (U+FFFD), as before.

use std::cell::OnceCell;

/// A serialized header map, checked: every size fits and every name and value is
/// NUL-terminated where its size says.
#[derive(Debug, Clone, Default)]
pub struct HeaderBlock {
    /// The host's buffer as it came.
    buf: Vec<u8>,
    /// Where the data region (every `name \0 value \0`) starts.
    start: usize,
    count: usize,
    /// Lossy copies of every name and value, made on first use when the data region is not
    /// UTF-8 (rare: obs-text in a header value).
    lossy: OnceCell<Vec<String>>,
}

fn read_u32(buf: &[u8], at: usize) -> Option<usize> {
    let b = buf.get(at..at.checked_add(4)?)?;
    let b: [u8; 4] = b.try_into().ok()?;
    usize::try_from(u32::from_le_bytes(b)).ok()
}

impl HeaderBlock {
    /// Reads a buffer in proxy-wasm's map serialization (an empty buffer is an empty map).
    /// Only checks it: the names and values are sliced out by [`HeaderBlock::pairs`].
    pub fn parse(buf: Vec<u8>) -> Result<HeaderBlock, String> {
        if buf.is_empty() {
            return Ok(HeaderBlock::default());
        }
        let bad = |what: &str| format!("malformed header map: {what}");
        let count = read_u32(&buf, 0).ok_or_else(|| bad("no count"))?;
        let start = count
            .checked_mul(8)
            .and_then(|n| n.checked_add(4))
            .filter(|&n| n <= buf.len())
            .ok_or_else(|| bad("count larger than the buffer"))?;
        let data = buf.get(start..).unwrap_or_default();
        let mut at = 0usize;
        for i in 0..count {
            let (Some(name_len), Some(value_len)) =
                (read_u32(&buf, 4 + i * 8), read_u32(&buf, 8 + i * 8))
            else {
                return Err(bad("truncated sizes"));
            };
            for len in [name_len, value_len] {
                at = at
                    .checked_add(len)
                    .filter(|&e| data.get(e) == Some(&0))
                    .ok_or_else(|| bad("entry past the end or not NUL-terminated"))?
                    + 1;
            }
        }
        Ok(HeaderBlock {
            buf,
            start,
            count,
            lossy: OnceCell::new(),
        })
    }

    /// The byte ranges of every name and value in the data region, in order (checked by
    /// [`HeaderBlock::parse`]).
    fn spans(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        let mut at = 0usize;
        (0..self.count * 2).map(move |j| {
            let len = read_u32(&self.buf, 4 + j * 4).unwrap_or(0);
            let span = (at, at.saturating_add(len));
            at = span.1.saturating_add(1);
            span
        })
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

    /// Every `(name, value)`, in order: slices of the host's buffer (validated as UTF-8
    /// once, here), or of lossy copies when it is not UTF-8.
    pub fn pairs(&self) -> Vec<(&str, &str)> {
        let data = self.buf.get(self.start..).unwrap_or_default();
        let mut out = Vec::with_capacity(self.count);
        match std::str::from_utf8(data) {
            // Nearly always: one validation for the whole block, then slices of it.
            Ok(text) => {
                let mut spans = self.spans();
                while let (Some(k), Some(v)) = (spans.next(), spans.next()) {
                    let part = |(a, b): (usize, usize)| text.get(a..b).unwrap_or("");
                    out.push((part(k), part(v)));
                }
            }
            Err(_) => {
                let lossy = self.lossy.get_or_init(|| {
                    self.spans()
                        .map(|(a, b)| {
                            String::from_utf8_lossy(data.get(a..b).unwrap_or_default()).into_owned()
                        })
                        .collect()
                });
                for kv in lossy.chunks_exact(2) {
                    if let [k, v] = kv {
                        out.push((k.as_str(), v.as_str()));
                    }
                }
            }
        }
        out
    }

    /// Number of headers.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.count == 0
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
        assert_eq!(std::mem::take(&mut again.buf), SERIALIZED);
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
