//! Shareable links: the workspace YAML in the URL fragment (`#ws=<base64url>`),
//! which browsers never send to a server.

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// The fragment parameter that carries the workspace.
pub const PARAM: &str = "ws=";

/// Unpadded base64url of `bytes`.
pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let chars = chunk.len() + 1;
        for i in 0..chars {
            let idx = (n >> (18 - 6 * i)) & 63;
            out.push(char::from(ALPHABET[idx as usize]));
        }
    }
    out
}

/// Decodes unpadded (or padded) base64url or base64; `None` on bad input.
pub fn decode(text: &str) -> Option<Vec<u8>> {
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            _ => return None,
        } as u32)
    };
    let bytes: Vec<u8> = text.bytes().filter(|b| *b != b'=').collect();
    if bytes.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut n = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            n |= val(*c)? << (18 - 6 * i);
        }
        let len = chunk.len() - 1;
        for i in 0..len {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    Some(out)
}

/// The fragment (without `#`) for a workspace's YAML.
pub fn fragment_for(yaml: &str) -> String {
    format!("{PARAM}{}", encode(yaml.as_bytes()))
}

/// Largest workspace a link may carry (decoded YAML bytes). Links are opened
/// by whoever receives them: anything larger is refused before decoding.
pub const MAX_LINK_BYTES: usize = 1024 * 1024;

/// What a URL fragment holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shared {
    /// No `ws=` parameter.
    None,
    /// The workspace YAML (not yet parsed).
    Yaml(String),
    /// A `ws=` parameter that cannot be a workspace: why, for the user.
    Bad(String),
}

/// The workspace YAML in a fragment (with or without the leading `#`).
pub fn from_fragment(fragment: &str) -> Shared {
    let f = fragment.strip_prefix('#').unwrap_or(fragment);
    let Some(data) = f.split('&').find_map(|p| p.strip_prefix(PARAM)) else {
        return Shared::None;
    };
    if data.len() > MAX_LINK_BYTES.div_ceil(3) * 4 + 4 {
        return Shared::Bad(format!(
            "it carries {} KiB, more than the {} KiB a link may hold",
            data.len() * 3 / 4 / 1024,
            MAX_LINK_BYTES / 1024
        ));
    }
    let Some(bytes) = decode(data) else {
        return Shared::Bad("it is damaged (not base64url)".into());
    };
    match String::from_utf8(bytes) {
        Ok(text) => Shared::Yaml(text),
        Err(_) => Shared::Bad("it is damaged (not UTF-8 text)".into()),
    }
}

/// The workspace YAML in a fragment, if it holds a readable one.
pub fn yaml_from_fragment(fragment: &str) -> Option<String> {
    match from_fragment(fragment) {
        Shared::Yaml(y) => Some(y),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_length() {
        let text = "apiVersion: v1\nkind: Service # ünïcødé ✓\n";
        for n in 0..text.len() {
            let bytes = &text.as_bytes()[..n];
            assert_eq!(decode(&encode(bytes)).as_deref(), Some(bytes), "{n}");
        }
        assert_eq!(encode(b"hello"), "aGVsbG8");
        assert_eq!(decode("aGVsbG8=").as_deref(), Some(&b"hello"[..]));
        assert_eq!(decode("a"), None);
        assert_eq!(decode("a*bc"), None);
    }

    #[test]
    fn fragments() {
        let f = fragment_for("a: 1\n");
        assert_eq!(
            yaml_from_fragment(&format!("#{f}")).as_deref(),
            Some("a: 1\n")
        );
        assert_eq!(yaml_from_fragment("#other=1"), None);
        assert_eq!(from_fragment("#other=1"), Shared::None);
        assert!(
            matches!(from_fragment("#ws=%3Cscript%3E"), Shared::Bad(m) if m.contains("base64"))
        );
        assert!(
            matches!(from_fragment(&format!("#ws={}", encode(&[0xff, 0xfe]))), Shared::Bad(m) if m.contains("UTF-8"))
        );
        let huge = format!("#ws={}", "A".repeat(MAX_LINK_BYTES * 2));
        assert!(matches!(from_fragment(&huge), Shared::Bad(m) if m.contains("KiB")));
    }
}
