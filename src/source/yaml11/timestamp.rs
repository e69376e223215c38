//! Timestamps: YAML 1.1's `!!timestamp` forms as PyYAML reads them into Python's
//! `date` and `datetime`, how Python prints them, and when two are the same key.

use std::fmt;

use super::scalar::Cursor;
use super::{TimeOfDay, Timestamp};

/// Whether a plain scalar is typed timestamp: `2030-01-01`, or a date (one- or
/// two-digit month and day) and a time, as in [`timestamp_parts`].
pub(super) fn is_timestamp(s: &str) -> bool {
    timestamp_parts(s, true).is_some()
}

/// The parts of a timestamp, before checking that the date exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Parts {
    year: u32,
    month: u32,
    day: u32,
    time: Option<TimeParts>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct TimeParts {
    hour: u32,
    minute: u32,
    second: u32,
    microsecond: u32,
    /// Minutes east of UTC.
    offset: Option<i64>,
}

/// Splits a timestamp into its parts. `implicit`: the stricter form that types a plain
/// scalar (a date alone needs two-digit month and day); otherwise the form `!!timestamp`
/// reads. Both: `YYYY-M-D`, then optionally `T`/`t`/blanks, `H:MM:SS`, an optional
/// `.fraction`, and an optional zone (`Z`, `+H`, `-HH:MM`) after optional blanks.
fn timestamp_parts(s: &str, implicit: bool) -> Option<Parts> {
    let mut c = Cursor::new(s);
    let number = |c: &mut Cursor, min: usize, max: usize| -> Option<u32> {
        let start = c.at;
        let n = c.run(|b| b.is_ascii_digit());
        if n < min || n > max {
            return None;
        }
        std::str::from_utf8(&c.s[start..c.at]).ok()?.parse().ok()
    };
    let year = number(&mut c, 4, 4)?;
    let month_start = c.at + 1;
    if !c.eat(b'-') {
        return None;
    }
    let month = number(&mut c, 1, 2)?;
    let month_len = c.at - month_start;
    if !c.eat(b'-') {
        return None;
    }
    let day_start = c.at;
    let day = number(&mut c, 1, 2)?;
    let day_len = c.at - day_start;
    if c.done() {
        if implicit && (month_len != 2 || day_len != 2) {
            return None;
        }
        return Some(Parts {
            year,
            month,
            day,
            time: None,
        });
    }
    if !(c.eat(b'T') || c.eat(b't')) && c.run(|b| b == b' ' || b == b'\t') == 0 {
        return None;
    }
    let hour = number(&mut c, 1, 2)?;
    if !c.eat(b':') {
        return None;
    }
    let minute = number(&mut c, 2, 2)?;
    if !c.eat(b':') {
        return None;
    }
    let second = number(&mut c, 2, 2)?;
    let mut microsecond = 0;
    if c.eat(b'.') {
        let start = c.at;
        let n = c.run(|b| b.is_ascii_digit());
        let digits = &c.s[start..start + n.min(6)];
        let mut us: u32 = 0;
        for i in 0..6 {
            us = us * 10 + digits.get(i).map_or(0, |d| u32::from(d - b'0'));
        }
        microsecond = us;
    }
    // Blanks before a zone belong to it: without a zone they are not part of the form.
    let before_blanks = c.at;
    c.run(|b| b == b' ' || b == b'\t');
    let mut offset = None;
    if !matches!(c.peek(), Some(b'Z' | b'+' | b'-')) {
        c.at = before_blanks;
    }
    if c.eat(b'Z') {
        offset = Some(0);
    } else if let Some(sign @ (b'+' | b'-')) = c.peek() {
        c.at += 1;
        let hours = i64::from(number(&mut c, 1, 2)?);
        let minutes = if c.eat(b':') {
            i64::from(number(&mut c, 2, 2)?)
        } else {
            0
        };
        let total = hours * 60 + minutes;
        offset = Some(if sign == b'-' { -total } else { total });
    }
    if !c.done() {
        return None;
    }
    Some(Parts {
        year,
        month,
        day,
        time: Some(TimeParts {
            hour,
            minute,
            second,
            microsecond,
            offset,
        }),
    })
}

/// Reads a `!!timestamp` scalar (plain ones typed timestamp, or tagged ones) as Python's
/// `date` or `datetime`, which refuse dates and times that do not exist.
pub(super) fn timestamp_of(text: &str) -> Result<Timestamp, &'static str> {
    let s = text.strip_suffix('\n').unwrap_or(text);
    let p = timestamp_parts(s, false).ok_or("this is not a timestamp")?;
    if !(1..=9999).contains(&p.year) {
        return Err("the year must be between 1 and 9999");
    }
    if !(1..=12).contains(&p.month) {
        return Err("the month must be between 1 and 12");
    }
    if p.day < 1 || p.day > days_in_month(p.year, p.month) {
        return Err("this day does not exist in that month");
    }
    let time = match p.time {
        None => None,
        Some(t) => {
            if t.hour > 23 || t.minute > 59 || t.second > 59 {
                return Err("the time must be between 00:00:00 and 23:59:59");
            }
            if t.offset.is_some_and(|o| o.abs() >= 24 * 60) {
                return Err("the UTC offset must be less than 24 hours");
            }
            Some(TimeOfDay {
                hour: t.hour as u8,
                minute: t.minute as u8,
                second: t.second as u8,
                microsecond: t.microsecond,
                utc_offset_minutes: t.offset.map(|o| o as i32),
            })
        }
    };
    Ok(Timestamp {
        year: p.year as u16,
        month: p.month as u8,
        day: p.day as u8,
        time,
    })
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Python's `str()` of the `date` or `datetime`: `2001-12-14`,
/// `2001-12-14 21:59:43.100000-05:00`.
impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)?;
        let Some(t) = self.time else {
            return Ok(());
        };
        write!(f, " {:02}:{:02}:{:02}", t.hour, t.minute, t.second)?;
        if t.microsecond != 0 {
            write!(f, ".{:06}", t.microsecond)?;
        }
        if let Some(offset) = t.utc_offset_minutes {
            let sign = if offset < 0 { '-' } else { '+' };
            let abs = offset.unsigned_abs();
            write!(f, "{sign}{:02}:{:02}", abs / 60, abs % 60)?;
        }
        Ok(())
    }
}

/// What identifies a timestamp in comparisons: its fields, or its UTC instant when it
/// has an offset, with its kind (date, naive, aware) so different kinds never match.
pub(super) fn instant(t: &Timestamp) -> (u8, i128) {
    let days = days_from_civil(i64::from(t.year), i64::from(t.month), i64::from(t.day));
    let Some(time) = t.time else {
        return (0, i128::from(days));
    };
    let seconds =
        days * 86_400 + i64::from(time.hour) * 3600 + i64::from(time.minute) * 60 + i64::from(time.second);
    let micros = i128::from(seconds) * 1_000_000 + i128::from(time.microsecond);
    match time.utc_offset_minutes {
        None => (1, micros),
        Some(offset) => (2, micros - i128::from(offset) * 60_000_000),
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp(time: Option<TimeOfDay>) -> String {
        Timestamp {
            year: 2001,
            month: 2,
            day: 3,
            time,
        }
        .to_string()
    }

    #[test]
    fn timestamps_print_as_python_does() {
        assert_eq!(stamp(None), "2001-02-03");
        let mut t = TimeOfDay {
            hour: 4,
            minute: 5,
            second: 6,
            microsecond: 0,
            utc_offset_minutes: None,
        };
        assert_eq!(stamp(Some(t)), "2001-02-03 04:05:06");
        t.microsecond = 100_000;
        t.utc_offset_minutes = Some(-300);
        assert_eq!(stamp(Some(t)), "2001-02-03 04:05:06.100000-05:00");
        t.utc_offset_minutes = Some(-30);
        assert_eq!(stamp(Some(t)), "2001-02-03 04:05:06.100000-00:30");
        t.utc_offset_minutes = Some(0);
        t.microsecond = 7;
        assert_eq!(stamp(Some(t)), "2001-02-03 04:05:06.000007+00:00");
    }

    #[test]
    fn timestamps_check_the_calendar() {
        let t = timestamp_of("2001-12-14t21:59:43.10-05:00").unwrap();
        assert_eq!(t.to_string(), "2001-12-14 21:59:43.100000-05:00");
        assert_eq!(timestamp_of("2001-1-2").unwrap().to_string(), "2001-01-02");
        assert_eq!(timestamp_of("2000-02-29").map(|t| t.day), Ok(29));
        assert!(timestamp_of("1900-02-29").is_err());
        assert!(timestamp_of("2001-13-01").is_err());
        assert!(timestamp_of("0000-01-01").is_err());
        assert!(timestamp_of("2001-01-01 24:00:00").is_err());
        assert!(timestamp_of("2001-01-01 01:00:00 +24").is_err());
        assert!(timestamp_of("2001-01-01 x").is_err());
        assert_eq!(
            timestamp_of("2001-01-01 1:00:00.1234567Z").unwrap().to_string(),
            "2001-01-01 01:00:00.123456+00:00"
        );
    }

    #[test]
    fn days_count_from_1970() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(1969, 12, 31), -1);
    }
}
