//! Reads an RFC 3339 timestamp given on the command line (`audit list --since`):
//! `2026-12-01T09:00:00Z` or with an offset (`+02:00`), fractions of a second ignored.

/// Unix seconds, or a message saying what was expected.
pub fn parse_rfc3339(text: &str) -> Result<i64, String> {
    let expected = || format!("expected an RFC 3339 time like 2026-12-01T09:00:00Z, got {text:?}");
    let bytes = text.as_bytes();
    if bytes.len() < 20
        || bytes[4] != b'-'
        || bytes[7] != b'-'
        || !matches!(bytes[10], b'T' | b't')
        || bytes[13] != b':'
        || bytes[16] != b':'
    {
        return Err(expected());
    }
    let number = |range: std::ops::Range<usize>| -> Result<i64, String> {
        let part = &text[range];
        if part.bytes().all(|b| b.is_ascii_digit()) {
            part.parse().map_err(|_| expected())
        } else {
            Err(expected())
        }
    };
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return Err(expected());
    }
    let mut rest = &text[19..];
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(expected());
        }
        rest = &fraction[digits..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ if rest.len() == 6 && matches!(&rest[..1], "+" | "-") && &rest[3..4] == ":" => {
            let start = text.len() - 6;
            let minutes = number(start + 1..start + 3)? * 60 + number(start + 4..start + 6)?;
            if &rest[..1] == "-" {
                -minutes * 60
            } else {
                minutes * 60
            }
        }
        _ => return Err(expected()),
    };
    Ok(days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset)
}

/// Days since 1970-01-01, after Howard Hinnant's `days_from_civil`.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::rfc3339;

    #[test]
    fn rfc3339_times_read_back_to_the_unix_seconds_they_print_from() {
        for unix in [0, 951_782_400, 1_795_608_671] {
            assert_eq!(parse_rfc3339(&rfc3339(unix)), Ok(unix));
        }
        assert_eq!(
            parse_rfc3339("2026-11-25T14:11:11.5+02:00"),
            Ok(1_795_608_671)
        );
        for bad in [
            "yesterday",
            "2026-11-25",
            "2026-13-01T00:00:00Z",
            "2026-11-25T12:00:00",
        ] {
            assert!(
                parse_rfc3339(bad).unwrap_err().contains("RFC 3339"),
                "{bad}"
            );
        }
    }
}
