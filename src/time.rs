//! Civil time without a clock: converting between Unix seconds and the text
//! forms the services use (RFC 3339 timestamps, SigV4's `20150830T123600Z`).
//! The host passes `now` in; nothing here reads the time.

use crate::error::{Error, Result};

/// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { yoe + era * 400 + 1 } else { yoe + era * 400 }, m, d)
}

/// Calendar fields of a Unix time (UTC).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DateTime {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
}

/// Accepted range of Unix times: years 1970 to 9999, so every formatted time
/// has four year digits.
const MIN_TIME: i64 = 0;
const MAX_TIME: i64 = 253_402_300_799; // 9999-12-31T23:59:59Z

impl DateTime {
    pub fn from_unix(secs: i64) -> Result<Self> {
        if !(MIN_TIME..=MAX_TIME).contains(&secs) {
            return Err(Error::invalid(format!("time {secs} is outside 1970..9999")));
        }
        let (year, month, day) = civil_from_days(secs.div_euclid(86_400));
        let rem = secs.rem_euclid(86_400) as u32;
        Ok(DateTime { year, month, day, hour: rem / 3600, minute: rem / 60 % 60, second: rem % 60 })
    }

    /// `YYYYMMDD`, the SigV4 credential-scope date.
    pub fn date_stamp(&self) -> String {
        format!("{:04}{:02}{:02}", self.year, self.month, self.day)
    }

    /// `YYYYMMDDTHHMMSSZ`, the SigV4 `X-Amz-Date`.
    pub fn amz_date(&self) -> String {
        format!("{}T{:02}{:02}{:02}Z", self.date_stamp(), self.hour, self.minute, self.second)
    }

    /// `YYYY-MM-DDTHH:MM:SSZ`.
    pub fn rfc3339(&self) -> String {
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

/// Parses an RFC 3339 / ISO 8601 timestamp (`2024-01-15T12:00:00Z`, with
/// optional fraction and a `Z` or `±HH:MM` offset) into Unix seconds.
/// Fractions are truncated.
pub fn parse_rfc3339(s: &str) -> Result<i64> {
    // The value may be attacker-sized or carry a token by mistake: the error
    // names its length, never its text.
    let bad = || Error::malformed(format!("a {}-byte value is not an RFC 3339 timestamp", s.len()));
    let b = s.trim().as_bytes();
    if b.len() < 20 || b.len() > 40 {
        return Err(bad());
    }
    let num = |r: std::ops::Range<usize>| -> Result<u32> {
        let part = &b[r];
        if !part.iter().all(u8::is_ascii_digit) {
            return Err(bad());
        }
        std::str::from_utf8(part).ok().and_then(|p| p.parse().ok()).ok_or_else(bad)
    };
    if b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') || b[13] != b':' || b[16] != b':' {
        return Err(bad());
    }
    let (year, month, day) = (num(0..4)? as i64, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month)
        || day == 0
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return Err(bad());
    }
    let mut rest = &b[19..];
    if rest.first() == Some(&b'.') {
        let digits = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 {
            return Err(bad());
        }
        rest = &rest[1 + digits..];
    }
    let offset = match rest {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let digits = [*h1, *h2, *m1, *m2];
            if !digits.iter().all(u8::is_ascii_digit) {
                return Err(bad());
            }
            let h = ((h1 - b'0') * 10 + (h2 - b'0')) as i64;
            let m = ((m1 - b'0') * 10 + (m2 - b'0')) as i64;
            if h > 23 || m > 59 {
                return Err(bad());
            }
            let off = h * 3600 + m * 60;
            if *sign == b'+' { off } else { -off }
        }
        _ => return Err(bad()),
    };
    let days = days_from_civil(year, month, day);
    Ok(days * 86_400 + (hour * 3600 + minute * 60 + second.min(59)) as i64 - offset)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for t in [0, 1_705_320_000, 951_782_400 /* 2000-02-29 */, 4_102_444_800, MAX_TIME] {
            let dt = DateTime::from_unix(t).unwrap();
            assert_eq!(parse_rfc3339(&dt.rfc3339()).unwrap(), t);
        }
    }

    #[test]
    fn known_values() {
        assert_eq!(DateTime::from_unix(1_440_938_160).unwrap().amz_date(), "20150830T123600Z");
        assert_eq!(parse_rfc3339("2024-01-15T12:00:00Z").unwrap(), 1_705_320_000);
        assert_eq!(parse_rfc3339("2024-01-15T12:00:00.123456Z").unwrap(), 1_705_320_000);
        assert_eq!(parse_rfc3339("2024-01-15T13:00:00+01:00").unwrap(), 1_705_320_000);
        assert_eq!(parse_rfc3339("2100-01-01T00:00:00Z").unwrap(), 4_102_444_800);
    }

    #[test]
    fn errors_do_not_echo_the_value() {
        let err = parse_rfc3339("ya29.SECRET-token").unwrap_err().to_string();
        assert!(!err.contains("SECRET"), "{err}");
    }

    #[test]
    fn rejects_garbage() {
        for s in [
            "",
            "2024-01-15",
            "2024-13-01T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "2024-01-15T12:00:00",
            "2024-01-15T12:00:00+1:00",
            "２０２４-01-15T12:00:00Z",
            "2024-01-15T12:00:00.Z",
        ] {
            assert!(parse_rfc3339(s).is_err(), "{s}");
        }
        assert!(DateTime::from_unix(-1).is_err());
    }
}
