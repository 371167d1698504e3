//! Capture time.
//!
//! Every stage below the CLI is driven by packet timestamps, never by the wall clock.
//! A [`Ts`] is nanoseconds since the Unix epoch as an `i64` (±292 years), so pcap's
//! microseconds, pcapng's per-interface resolutions and nanosecond pcaps all convert
//! exactly, and differences are computed in integers before they become milliseconds.
//!
//! Also the one calendar conversion of the crate ([`civil_from_days`], [`days_from_civil`]):
//! the HAR's dates, cookie expiry dates, RRSIG times and certificate validity all go
//! through it.

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

impl schemars::JsonSchema for Ts {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Ts".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "number",
            "description": "Capture time: seconds since the Unix epoch."
        })
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

/// Days since 1970-01-01 to (year, month 1..=12, day 1..=31) in the proleptic Gregorian
/// calendar (H. Hinnant's `civil_from_days`, exact for every `i64` day count a `Ts` or a
/// 32-bit seconds field can hold).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`);
/// the inverse of [`civil_from_days`].
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let (m, d) = (i64::from(m), i64::from(d));
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
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

    #[test]
    fn calendar_round_trips() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(49_710), (2106, 2, 7));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        for z in [-800_000, -719_468, -1, 0, 59, 60, 11_016, 20_000, 2_932_896] {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z, "{z}");
        }
    }
}
