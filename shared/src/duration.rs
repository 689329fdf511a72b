//! Durations as Istio reads them: Go's `time.ParseDuration` syntax (`1.5s`,
//! `100ms`, `1m30s`, `3m`), which is what the CRDs' CEL `duration()` accepts.

use std::time::Duration;

/// Why a duration string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("empty duration")]
    Empty,
    #[error("negative duration {0:?}")]
    Negative(String),
    #[error(
        "invalid duration {0:?}: expected a number and a unit (ns, us, ms, s, m, h), e.g. \"1.5s\""
    )]
    Syntax(String),
    #[error("duration {0:?} is out of range")]
    Overflow(String),
}

/// Parses a Go-style duration. Negative durations are refused (Istio has none).
pub fn parse_duration(s: &str) -> Result<Duration, DurationError> {
    let t = s.trim();
    if t.is_empty() {
        return Err(DurationError::Empty);
    }
    let (neg, body) = match t.as_bytes()[0] {
        b'-' => (true, &t[1..]),
        b'+' => (false, &t[1..]),
        _ => (false, t),
    };
    if body == "0" {
        return Ok(Duration::ZERO);
    }
    if body.is_empty() {
        return Err(DurationError::Syntax(s.to_owned()));
    }
    let mut total: u128 = 0; // nanoseconds
    let mut rest = body;
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| DurationError::Syntax(s.to_owned()))?;
        let (num, after) = rest.split_at(num_end);
        if num.is_empty() || num == "." || num.matches('.').count() > 1 {
            return Err(DurationError::Syntax(s.to_owned()));
        }
        let unit_end = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, next) = after.split_at(unit_end);
        let scale: u128 = match unit {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return Err(DurationError::Syntax(s.to_owned())),
        };
        let (int_part, frac_part) = num.split_once('.').unwrap_or((num, ""));
        let int: u128 = if int_part.is_empty() {
            0
        } else {
            int_part
                .parse()
                .map_err(|_| DurationError::Overflow(s.to_owned()))?
        };
        let mut nanos = int
            .checked_mul(scale)
            .ok_or_else(|| DurationError::Overflow(s.to_owned()))?;
        // Fractional part, exact to the nanosecond like Go.
        let mut frac_scale = scale;
        for d in frac_part.bytes().take(30) {
            frac_scale /= 10;
            nanos += u128::from(d - b'0') * frac_scale;
        }
        total = total
            .checked_add(nanos)
            .ok_or_else(|| DurationError::Overflow(s.to_owned()))?;
        rest = next;
    }
    if total > i64::MAX as u128 {
        return Err(DurationError::Overflow(s.to_owned()));
    }
    if neg && total > 0 {
        return Err(DurationError::Negative(s.to_owned()));
    }
    Ok(Duration::new(
        (total / 1_000_000_000) as u64,
        (total % 1_000_000_000) as u32,
    ))
}

/// Formats a duration the way Envoy's JSON expects (`"1.500s"`).
pub fn to_envoy(d: Duration) -> String {
    if d.subsec_nanos() == 0 {
        format!("{}s", d.as_secs())
    } else {
        let s = format!("{}.{:09}", d.as_secs(), d.subsec_nanos());
        format!("{}s", s.trim_end_matches('0'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        let ms = Duration::from_millis;
        assert_eq!(parse_duration("1s"), Ok(ms(1000)));
        assert_eq!(parse_duration("1.5s"), Ok(ms(1500)));
        assert_eq!(parse_duration("100ms"), Ok(ms(100)));
        assert_eq!(parse_duration("1m30s"), Ok(ms(90_000)));
        assert_eq!(parse_duration("3m"), Ok(ms(180_000)));
        assert_eq!(parse_duration("2h"), Ok(ms(7_200_000)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        assert_eq!(parse_duration("0.0000005s"), Ok(Duration::from_nanos(500)));
        assert_eq!(parse_duration("15.000000005s"), Ok(Duration::new(15, 5)));
        assert_eq!(parse_duration("250us"), Ok(Duration::from_micros(250)));
    }

    #[test]
    fn bad_durations() {
        for s in [
            "",
            "1",
            "s",
            "1x",
            "1.2.3s",
            "-1s",
            "abc",
            "1 s",
            "99999999999999999999h",
        ] {
            assert!(parse_duration(s).is_err(), "{s}");
        }
    }

    #[test]
    fn envoy_format() {
        assert_eq!(to_envoy(Duration::from_millis(1500)), "1.5s");
        assert_eq!(to_envoy(Duration::from_secs(2)), "2s");
        assert_eq!(to_envoy(Duration::from_millis(1)), "0.001s");
    }
}
