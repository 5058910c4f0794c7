//! Timestamps: microseconds since the Unix epoch (UTC), written as RFC 3339 with exactly six
//! fraction digits and `Z`, so the text is canonical (one spelling per instant, sorts as time)
//! and round-trips through PostgreSQL's `timestamptz` (microsecond precision) unchanged.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

/// An instant, in microseconds since 1970-01-01T00:00:00Z.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

const MICROS_PER_SECOND: i64 = 1_000_000;
const SECONDS_PER_DAY: i64 = 86_400;

impl Timestamp {
    /// The system clock now (the adapter's clock: the runtime has none).
    pub fn now() -> Self {
        let micros = match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(since) => i64::try_from(since.as_micros()).unwrap_or(i64::MAX),
            Err(before) => -i64::try_from(before.duration().as_micros()).unwrap_or(i64::MAX),
        };
        Timestamp(micros)
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction]Z`, `YYYY-MM-DD` (midnight UTC) or a bare integer
    /// of microseconds since the epoch. Fractions beyond microseconds are truncated.
    pub fn parse(text: &str) -> Option<Self> {
        if !text.is_empty()
            && text.bytes().all(|b| b.is_ascii_digit() || b == b'-')
            && let Ok(micros) = text.parse::<i64>()
        {
            return Some(Timestamp(micros));
        }
        let (date, time) = match text.split_once('T') {
            Some((date, time)) => (date, Some(time)),
            None => (text, None),
        };
        let mut parts = date.split('-');
        let year: i64 = fixed(parts.next()?, 4)?;
        let month: i64 = fixed(parts.next()?, 2)?;
        let day: i64 = fixed(parts.next()?, 2)?;
        if parts.next().is_some() || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
            return None;
        }
        let mut micros = days_from_civil(year, month, day).checked_mul(SECONDS_PER_DAY)?;
        micros = micros.checked_mul(MICROS_PER_SECOND)?;
        if let Some(time) = time {
            let time = time.strip_suffix('Z').or_else(|| time.strip_suffix("+00:00"))?;
            let (clock, fraction) = match time.split_once('.') {
                Some((clock, fraction)) => (clock, Some(fraction)),
                None => (time, None),
            };
            let mut fields = clock.split(':');
            let hour: i64 = fixed(fields.next()?, 2)?;
            let minute: i64 = fixed(fields.next()?, 2)?;
            let second: i64 = fixed(fields.next()?, 2)?;
            if fields.next().is_some() || hour > 23 || minute > 59 || second > 60 {
                return None;
            }
            micros += (hour * 3600 + minute * 60 + second) * MICROS_PER_SECOND;
            if let Some(fraction) = fraction {
                if fraction.is_empty() || !fraction.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                let six: String = fraction.chars().chain(std::iter::repeat('0')).take(6).collect();
                micros += six.parse::<i64>().ok()?;
            }
        }
        Some(Timestamp(micros))
    }
}

fn fixed(text: &str, width: usize) -> Option<i64> {
    (text.len() == width && text.bytes().all(|b| b.is_ascii_digit()))
        .then(|| text.parse().ok())
        .flatten()
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The date of a day number (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 { month_index + 3 } else { month_index - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let seconds = self.0.div_euclid(MICROS_PER_SECOND);
        let micros = self.0.rem_euclid(MICROS_PER_SECOND);
        let days = seconds.div_euclid(SECONDS_PER_DAY);
        let of_day = seconds.rem_euclid(SECONDS_PER_DAY);
        let (year, month, day) = civil_from_days(days);
        write!(
            f,
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{micros:06}Z",
            of_day / 3600,
            of_day % 3600 / 60,
            of_day % 60
        )
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        // Only the canonical spelling is accepted in a record, so the chain hash (computed over
        // the text) and the instant agree.
        let parsed =
            Timestamp::parse(&text).filter(|parsed| parsed.to_string() == text).ok_or_else(
                || serde::de::Error::custom(format_args!("`{text}` is not a canonical timestamp")),
            )?;
        Ok(parsed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses_round_trip() {
        for (micros, text) in [
            (0, "1970-01-01T00:00:00.000000Z"),
            (1, "1970-01-01T00:00:00.000001Z"),
            (-1, "1969-12-31T23:59:59.999999Z"),
            (951_782_400_000_000, "2000-02-29T00:00:00.000000Z"),
            (1_795_000_000_123_456, "2026-11-18T11:06:40.123456Z"),
        ] {
            assert_eq!(Timestamp(micros).to_string(), text);
            assert_eq!(Timestamp::parse(text), Some(Timestamp(micros)));
        }
        assert_eq!(Timestamp::parse("2026-11-17"), Timestamp::parse("2026-11-17T00:00:00Z"));
        assert_eq!(
            Timestamp::parse("2026-11-18T11:06:40.5Z"),
            Some(Timestamp(1_795_000_000_500_000))
        );
        assert_eq!(Timestamp::parse("12345"), Some(Timestamp(12345)));
        for bad in ["", "2026-13-01", "2026-11-17T09:06", "2026-11-18T11:06:40", "x", "2026-1-1"] {
            assert_eq!(Timestamp::parse(bad), None, "{bad}");
        }
    }
}
