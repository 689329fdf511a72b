//! A fast full-match path for the simple regexes routing rules mostly use:
//! a sequence of literals, `.`, classes (`[a-z0-9_]`, `[^/]`, `\d`, `\w`, `\s`) with
//! quantifiers (`?`, `*`, `+`, `{n}`, `{n,}`, `{n,m}`, lazy forms), optionally
//! wrapped in `^…$`. No groups, alternation or flags: anything else returns `None`
//! and `regex-lite` (always compiled too, and the reference) is used instead.
//!
//! Matching is a bit-parallel Glushkov simulation (one `u64` of states, at most
//! 63 atoms): a few nanoseconds per character, no backtracking, no allocation.
//! `regex-lite`'s semantics are followed: `.` matches anything but `\n`, `\d`
//! `\w` `\s` are ASCII, a negated class matches `\n` and any non-ASCII character.

const MAX_ATOMS: usize = 63;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Quant {
    One,
    Opt,
    Star,
    Plus,
}

#[derive(Debug, Clone)]
enum Atom {
    /// A non-ASCII literal character.
    Char(char),
    /// ASCII set (bit per byte 0..128); `other` = matches every non-ASCII char.
    Set { bits: u128, other: bool },
}

impl Atom {
    fn matches(&self, c: char) -> bool {
        match self {
            Atom::Char(x) => *x == c,
            Atom::Set { bits, other } => {
                if c.is_ascii() {
                    (bits >> (c as u32)) & 1 == 1
                } else {
                    *other
                }
            }
        }
    }
}

/// A compiled simple regex (full match).
#[derive(Debug, Clone)]
pub(crate) struct SimpleRegex {
    /// For each ASCII byte, the atoms that accept it.
    table: Box<[u64; 128]>,
    /// Atoms, for non-ASCII input.
    atoms: Vec<Atom>,
    /// Atoms that may be skipped (`?`, `*`).
    optional: u64,
    /// Atoms that may repeat (`*`, `+`).
    repeat: u64,
    /// Bit of the accepting state.
    accept: u64,
    /// States reachable before any input.
    start: u64,
}

fn ascii_bit(c: u8) -> u128 {
    1u128 << u32::from(c & 0x7f)
}

fn range_bits(lo: u8, hi: u8) -> u128 {
    (lo..=hi).fold(0u128, |acc, c| acc | ascii_bit(c))
}

fn class_escape(c: char) -> Option<(u128, bool)> {
    let digit = range_bits(b'0', b'9');
    let word = digit | range_bits(b'a', b'z') | range_bits(b'A', b'Z') | ascii_bit(b'_');
    let space = [b'\t', b'\n', 0x0b, 0x0c, b'\r', b' ']
        .iter()
        .fold(0u128, |a, c| a | ascii_bit(*c));
    match c {
        'd' => Some((digit, false)),
        'w' => Some((word, false)),
        's' => Some((space, false)),
        'D' => Some((!digit, true)),
        'W' => Some((!word, true)),
        'S' => Some((!space, true)),
        _ => None,
    }
}

/// Parses `[...]` after the `[`; returns the set and the rest of the pattern.
fn parse_class(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Option<Atom> {
    let negated = chars.peek() == Some(&'^');
    if negated {
        chars.next();
    }
    let mut bits = 0u128;
    let mut first = true;
    let mut prev: Option<u8> = None;
    loop {
        let c = chars.next()?;
        match c {
            ']' if !first => break,
            '[' | ']' => return None, // POSIX classes, nested sets, leading `]`: leave to regex-lite
            '\\' => {
                let e = chars.next()?;
                if let Some((b, other)) = class_escape(e) {
                    if other {
                        return None; // `[\D]`-style negations inside sets
                    }
                    bits |= b;
                    prev = None;
                } else if e.is_ascii_punctuation() {
                    bits |= ascii_bit(e as u8);
                    prev = Some(e as u8);
                } else {
                    return None;
                }
            }
            '-' if prev.is_some() && chars.peek().is_some_and(|n| *n != ']') => {
                let lo = prev?;
                let hi = chars.next()?;
                if !hi.is_ascii() || hi == '\\' || hi == '[' || (hi as u8) < lo {
                    return None;
                }
                bits |= range_bits(lo, hi as u8);
                prev = None;
            }
            c if c.is_ascii() => {
                if c == '&' || c == '~' && chars.peek() == Some(&'~') {
                    return None;
                }
                bits |= ascii_bit(c as u8);
                prev = Some(c as u8);
            }
            _ => return None,
        }
        first = false;
    }
    Some(if negated {
        Atom::Set {
            bits: !bits,
            other: true,
        }
    } else {
        Atom::Set { bits, other: false }
    })
}

/// Parses `{n}`, `{n,}`, `{n,m}` after the `{`.
fn parse_counts(
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
) -> Option<(usize, Option<usize>)> {
    let mut body = String::new();
    loop {
        let c = chars.next()?;
        if c == '}' {
            break;
        }
        if !(c.is_ascii_digit() || c == ',') || body.len() > 8 {
            return None;
        }
        body.push(c);
    }
    match body.split_once(',') {
        None => {
            let n = body.parse().ok()?;
            Some((n, Some(n)))
        }
        Some((a, "")) => Some((a.parse().ok()?, None)),
        Some((a, b)) => {
            let (n, m): (usize, usize) = (a.parse().ok()?, b.parse().ok()?);
            (m >= n).then_some((n, Some(m)))
        }
    }
}

impl SimpleRegex {
    /// Compiles `pattern` when it is in the simple subset.
    pub(crate) fn compile(pattern: &str) -> Option<SimpleRegex> {
        let mut atoms: Vec<(Atom, Quant)> = Vec::new();
        let body = pattern.strip_prefix('^').unwrap_or(pattern);
        let body = match body.strip_suffix('$') {
            Some(b) if !b.ends_with('\\') => b,
            _ => body,
        };
        let mut chars = body.chars().peekable();
        while let Some(c) = chars.next() {
            let atom = match c {
                '.' => Atom::Set {
                    bits: !ascii_bit(b'\n'),
                    other: true,
                },
                '[' => parse_class(&mut chars)?,
                '\\' => {
                    let e = chars.next()?;
                    if let Some((bits, other)) = class_escape(e) {
                        Atom::Set { bits, other }
                    } else if e.is_ascii_punctuation() {
                        Atom::Set {
                            bits: ascii_bit(e as u8),
                            other: false,
                        }
                    } else {
                        return None;
                    }
                }
                '(' | ')' | '|' | '^' | '$' | '*' | '+' | '?' | '{' | '}' | ']' => return None,
                c if c.is_ascii() => Atom::Set {
                    bits: ascii_bit(c as u8),
                    other: false,
                },
                c => Atom::Char(c),
            };
            // Quantifier, then an optional lazy `?` (same match set for a full match).
            let (min, max) = match chars.peek() {
                Some('?') => {
                    chars.next();
                    (0, Some(1))
                }
                Some('*') => {
                    chars.next();
                    (0, None)
                }
                Some('+') => {
                    chars.next();
                    (1, None)
                }
                Some('{') => {
                    chars.next();
                    parse_counts(&mut chars)?
                }
                _ => (1, Some(1)),
            };
            if (min, max) != (1, Some(1)) {
                if chars.peek() == Some(&'?') {
                    chars.next();
                }
                if matches!(chars.peek(), Some('?') | Some('*') | Some('+') | Some('{')) {
                    return None;
                }
            }
            // Expand counts: `a{2,4}` = a a a? a?, `a{2,}` = a a a*.
            for _ in 0..min.saturating_sub(usize::from(max.is_none())) {
                atoms.push((atom.clone(), Quant::One));
            }
            match max {
                None if min == 0 => atoms.push((atom, Quant::Star)),
                None => atoms.push((atom, Quant::Plus)),
                Some(m) => {
                    for _ in min..m {
                        atoms.push((atom.clone(), Quant::Opt));
                    }
                }
            }
            if atoms.len() > MAX_ATOMS {
                return None;
            }
        }
        let m = atoms.len();
        let mut table = Box::new([0u64; 128]);
        let (mut optional, mut repeat) = (0u64, 0u64);
        for (i, (a, q)) in atoms.iter().enumerate() {
            let bit = 1u64 << i;
            for (b, slot) in table.iter_mut().enumerate() {
                if a.matches(b as u8 as char) {
                    *slot |= bit;
                }
            }
            if matches!(q, Quant::Opt | Quant::Star) {
                optional |= bit;
            }
            if matches!(q, Quant::Star | Quant::Plus) {
                repeat |= bit;
            }
        }
        let mut re = SimpleRegex {
            table,
            atoms: atoms.into_iter().map(|(a, _)| a).collect(),
            optional,
            repeat,
            accept: 1u64 << m,
            start: 1,
        };
        re.start = re.closure(1);
        Some(re)
    }

    /// Adds the states reachable by skipping optional atoms.
    #[inline]
    fn closure(&self, mut s: u64) -> u64 {
        loop {
            let next = s | ((s & self.optional) << 1);
            if next == s {
                return s;
            }
            s = next;
        }
    }

    /// True when the whole of `hay` matches.
    #[inline]
    pub(crate) fn is_match(&self, hay: &str) -> bool {
        let mut s = self.start;
        for c in hay.chars() {
            let b = if c.is_ascii() {
                self.table.get(c as usize).copied().unwrap_or(0)
            } else {
                self.atoms
                    .iter()
                    .enumerate()
                    .filter(|(_, a)| a.matches(c))
                    .fold(0u64, |acc, (i, _)| acc | (1u64 << i))
            };
            // Consume atom j from state j (→ j+1), or repeat atom j in state j+1.
            let next = ((s & b) << 1) | (s & ((b & self.repeat) << 1));
            s = self.closure(next);
            if s == 0 {
                return false;
            }
        }
        s & self.accept != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::decision::{RandomSource, SplitMix64};

    fn full(p: &str) -> regex_lite::Regex {
        regex_lite::Regex::new(&format!("^(?:{p})$")).unwrap()
    }

    #[test]
    fn simple_subset() {
        for (p, yes, no) in [
            ("/api/v[0-9]+/.*", "/api/v12/x", "/api/v/x"),
            ("user-\\d{2,3}", "user-123", "user-1"),
            ("[^/]+\\.css", "a.css", "a/b.css"),
            ("ab?c*d+", "add", "abbd"),
            ("^/exact$", "/exact", "/exact/"),
            ("x{3}", "xxx", "xx"),
            ("é.", "éa", "e"),
            (".*", "", "\n"),
        ] {
            let s = SimpleRegex::compile(p).unwrap_or_else(|| panic!("{p} should be simple"));
            assert!(s.is_match(yes), "{p} ~ {yes}");
            assert!(!s.is_match(no), "{p} !~ {no}");
        }
        for p in [
            "(a|b)",
            "a|b",
            "(?i)a",
            "[[:alpha:]]",
            "a**",
            "\\bx",
            "[a&&b]",
        ] {
            assert!(SimpleRegex::compile(p).is_none(), "{p} is not simple");
        }
    }

    /// Random simple patterns and inputs: the fast path agrees with regex-lite.
    #[test]
    fn property_agrees_with_regex_lite() {
        let mut rng = SplitMix64(0xabcdef);
        let mut pick = |n: u32| rng.next_u32() % n;
        let atoms = [
            "a", "b", "/", ".", "[ab]", "[^a]", "\\d", "\\w", "\\.", "[a-c0-1]", "é", "\\s",
        ];
        let quants = ["", "", "", "?", "*", "+", "{2}", "{1,3}", "{0,}", "*?"];
        let alphabet = ['a', 'b', 'c', '/', '.', '1', '9', '_', ' ', '\n', 'é', 'z'];
        let mut checked = 0;
        for _ in 0..3000 {
            let n = 1 + pick(5);
            let mut p = String::new();
            for _ in 0..n {
                p.push_str(atoms[pick(atoms.len() as u32) as usize]);
                p.push_str(quants[pick(quants.len() as u32) as usize]);
            }
            let Some(fast) = SimpleRegex::compile(&p) else {
                continue;
            };
            let slow = full(&p);
            for _ in 0..30 {
                let len = pick(7);
                let hay: String = (0..len)
                    .map(|_| alphabet[pick(alphabet.len() as u32) as usize])
                    .collect();
                assert_eq!(
                    fast.is_match(&hay),
                    slow.is_match(&hay),
                    "pattern {p:?} on {hay:?}"
                );
                checked += 1;
            }
        }
        assert!(checked > 50_000, "{checked}");
    }
}
