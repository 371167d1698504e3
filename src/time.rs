//! Capture time.
//!
//! Every stage below the CLI is driven by packet timestamps, never by the wall clock.
//! A [`Ts`] is nanoseconds since the Unix epoch as an `i64` (±292 years), so pcap's
//! microseconds, pcapng's per-interface resolutions and nanosecond pcaps all convert
//! exactly, and differences are computed in integers before they become milliseconds.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A capture timestamp: nanoseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Ts(pub i64);

impl Ts {
    pub const fn from_nanos(n: i64) -> Ts {
        Ts(n)
    }

    /// From whole seconds and a fraction given in `units_per_sec` (1e6 for microseconds).
    pub fn from_parts(secs: i64, frac: u64, units_per_sec: u64) -> Ts {
        let nanos = if units_per_sec == 1_000_000_000 {
            frac as i128
        } else {
            (frac as i128) * 1_000_000_000 / (units_per_sec.max(1) as i128)
        };
        let total = (secs as i128) * 1_000_000_000 + nanos;
        Ts(total.clamp(i64::MIN as i128, i64::MAX as i128) as i64)
    }

    pub const fn nanos(self) -> i64 {
        self.0
    }

    /// Seconds since the epoch as a float, as the JSON report writes times.
    pub fn as_secs_f64(self) -> f64 {
        let secs = self.0.div_euclid(1_000_000_000);
        let frac = self.0.rem_euclid(1_000_000_000);
        secs as f64 + frac as f64 / 1e9
    }

    /// `self - earlier` in milliseconds (negative when `earlier` is later).
    pub fn ms_since(self, earlier: Ts) -> f64 {
        (self.0 as i128 - earlier.0 as i128) as f64 / 1e6
    }

    pub fn saturating_add_nanos(self, n: i64) -> Ts {
        Ts(self.0.saturating_add(n))
    }
}

impl Serialize for Ts {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.as_secs_f64())
    }
}

impl<'de> Deserialize<'de> for Ts {
    /// Reads the float seconds that [`Serialize`] writes (saved JSON reports), to the
    /// nearest microsecond: an f64 of epoch seconds holds no more.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Ts, D::Error> {
        let secs = f64::deserialize(d)?;
        let whole = secs.floor();
        let micros = ((secs - whole) * 1e6).round() as i64;
        Ok(Ts((whole as i64)
            .saturating_mul(1_000_000_000)
            .saturating_add(micros * 1000)))
    }
}

/// Milliseconds between two optional timestamps, `None` unless both were observed.
pub fn ms_between(from: Option<Ts>, to: Option<Ts>) -> Option<f64> {
    match (from, to) {
        (Some(a), Some(b)) => Some(round_ms(b.ms_since(a))),
        _ => None,
    }
}

/// Rounds a millisecond figure to nanosecond precision so JSON prints no float noise.
pub fn round_ms(ms: f64) -> f64 {
    (ms * 1e6).round() / 1e6
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn micro_and_nano_parts_convert_exactly() {
        assert_eq!(Ts::from_parts(1, 5, 1_000_000).nanos(), 1_000_005_000);
        assert_eq!(Ts::from_parts(1, 5, 1_000_000_000).nanos(), 1_000_000_005);
        assert_eq!(Ts::from_parts(2, 1, 1000).nanos(), 2_001_000_000);
    }

    #[test]
    fn float_seconds_keep_microseconds() {
        let t = Ts::from_parts(1_687_555_544, 173_804, 1_000_000);
        assert_eq!(t.as_secs_f64(), 1_687_555_544.173_804);
    }

    #[test]
    fn ms_between_needs_both_ends() {
        let a = Ts::from_nanos(1_000_000);
        let b = Ts::from_nanos(3_500_000);
        assert_eq!(ms_between(Some(a), Some(b)), Some(2.5));
        assert_eq!(ms_between(None, Some(b)), None);
    }
}
