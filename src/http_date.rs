//! HTTP dates and `Retry-After` (RFC 9110 §5.6.7, §10.2.3): when a rate-limited token endpoint says to come
//! back, and what time the provider's clock says it is (its `Date` header, for naming a clock skew).

#[allow(unused_imports)]
use crate::prelude::*;

/// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`, the only form senders may generate) as Unix seconds.
pub fn parse_http_date(s: &str) -> Option<f64> {
    let b = s.trim().as_bytes();
    if b.len() != 29 || b.get(3) != Some(&b',') || b.get(25..29) != Some(b" GMT") {
        return None;
    }
    let num = |from: usize, len: usize| -> Option<i64> {
        let d = b.get(from..from + len)?;
        d.iter().try_fold(0i64, |n, c| c.is_ascii_digit().then(|| n * 10 + i64::from(c - b'0')))
    };
    let day = num(5, 2)?;
    let month = match b.get(8..11)? {
        b"Jan" => 1,
        b"Feb" => 2,
        b"Mar" => 3,
        b"Apr" => 4,
        b"May" => 5,
        b"Jun" => 6,
        b"Jul" => 7,
        b"Aug" => 8,
        b"Sep" => 9,
        b"Oct" => 10,
        b"Nov" => 11,
        b"Dec" => 12,
        _ => return None,
    };
    let (year, hour, minute, second) = (num(12, 4)?, num(17, 2)?, num(20, 2)?, num(23, 2)?);
    if b.get(16) != Some(&b' ') || b.get(19) != Some(&b':') || b.get(22) != Some(&b':') || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((days * 86_400 + hour * 3600 + minute * 60 + second) as f64)
}

/// `Retry-After` in seconds from `now`: delay-seconds or an HTTP date. `None` when absent or unreadable.
pub fn retry_after_seconds(value: Option<&str>, now: f64) -> Option<f64> {
    let v = value?.trim();
    if !v.is_empty() && v.len() <= 10 && v.bytes().all(|c| c.is_ascii_digit()) {
        return Some(v.bytes().fold(0.0, |n, c| n * 10.0 + f64::from(c - b'0')));
    }
    parse_http_date(v).map(|t| (t - now).max(0.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imf_fixdates() {
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), Some(784_111_777.0), "RFC 9110's example");
        assert_eq!(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0.0));
        assert_eq!(parse_http_date("Tue, 14 Nov 2023 22:13:20 GMT"), Some(1_700_000_000.0));
        assert_eq!(parse_http_date("Thu, 29 Feb 2024 12:00:00 GMT"), Some(1_709_208_000.0), "a leap day");
        for bad in ["", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994", "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 06 Foo 1994 08:49:37 GMT", "Sun, 32 Nov 1994 08:49:37 GMT"] {
            assert_eq!(parse_http_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn retry_after_as_seconds_or_a_date() {
        assert_eq!(retry_after_seconds(Some("120"), 0.0), Some(120.0));
        assert_eq!(retry_after_seconds(Some("Tue, 14 Nov 2023 22:13:25 GMT"), 1_700_000_000.0), Some(5.0));
        assert_eq!(retry_after_seconds(Some("Tue, 14 Nov 2023 22:13:15 GMT"), 1_700_000_000.0), Some(0.0), "a date passed: now");
        assert_eq!(retry_after_seconds(Some("-1"), 0.0), None);
        assert_eq!(retry_after_seconds(None, 0.0), None);
    }
}
