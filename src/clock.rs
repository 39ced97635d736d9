//! The clock the domain reads. Production uses the system clock; tests inject a
//! `ManualClock` and move time instead of sleeping (STYLE.md habit 7).

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch.
pub type UnixTime = i64;

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> UnixTime;
}

#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> UnixTime {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0)
    }
}

/// A clock that only moves when told to.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    pub fn new(start: UnixTime) -> Self {
        Self(Arc::new(AtomicI64::new(start)))
    }

    pub fn starting_now() -> Self {
        Self::new(SystemClock.now())
    }

    pub fn advance(&self, seconds: i64) {
        self.0.fetch_add(seconds, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> UnixTime {
        self.0.load(Ordering::SeqCst)
    }
}

pub type SharedClock = Arc<dyn Clock>;

/// RFC 3339 UTC (`2026-11-25T12:00:00Z`) for Unix seconds: the JSON timestamps
/// clients rely on. Days to civil date after Howard Hinnant's `civil_from_days`.
pub fn rfc3339(unix: UnixTime) -> String {
    let (days, secs) = (unix.div_euclid(86_400), unix.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// A duration in plain words, rounded down to its two largest adjacent units:
/// "2 hours", "1 hour 30 minutes", "1 minute 30 seconds", "3 days". For the exact
/// words of a duration a person chooses, see `exact_duration`.
pub fn human_duration(seconds: i64) -> String {
    let parts = duration_parts(seconds);
    match parts.iter().position(|(n, _)| *n > 0) {
        None => plural(0, "second"),
        Some(first) => parts[first..]
            .iter()
            .take(2)
            .filter(|(n, _)| *n > 0)
            .map(|(n, unit)| plural(*n, unit))
            .collect::<Vec<_>>()
            .join(" "),
    }
}

/// A duration in plain words with nothing left out: "1 hour 1 second".
pub fn exact_duration(seconds: i64) -> String {
    let words: Vec<String> = duration_parts(seconds)
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, unit)| plural(n, unit))
        .collect();
    if words.is_empty() {
        plural(0, "second")
    } else {
        words.join(" ")
    }
}

fn duration_parts(seconds: i64) -> [(i64, &'static str); 4] {
    let seconds = seconds.max(0);
    [
        (seconds / 86_400, "day"),
        (seconds % 86_400 / 3600, "hour"),
        (seconds % 3600 / 60, "minute"),
        (seconds % 60, "second"),
    ]
}

fn plural(n: i64, unit: &str) -> String {
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_format_as_rfc3339_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_795_608_671), "2026-11-25T12:11:11Z");
    }

    #[test]
    fn durations_read_in_plain_words() {
        assert_eq!(human_duration(3600), "1 hour");
        assert_eq!(human_duration(5400), "1 hour 30 minutes");
        assert_eq!(human_duration(7 * 86_400), "7 days");
        assert_eq!(human_duration(45), "45 seconds");
        assert_eq!(human_duration(90), "1 minute 30 seconds");
        assert_eq!(human_duration(3601), "1 hour");
        assert_eq!(human_duration(-5), "0 seconds");
    }

    #[test]
    fn exact_durations_leave_nothing_out() {
        assert_eq!(exact_duration(90), "1 minute 30 seconds");
        assert_eq!(exact_duration(3601), "1 hour 1 second");
        assert_eq!(exact_duration(7200), "2 hours");
        assert_eq!(exact_duration(0), "0 seconds");
    }
}
