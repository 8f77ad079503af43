//! The fault model: how a server's clock errs and what it says about itself. The
//! [`Responder`](crate::Responder) and the simulation's servers take the same
//! [`Behaviour`], built from the same [`Fault`]s.

use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::answer::ServerParams;
use super::packet::LeapIndicator;
use super::validate::KissCode;

/// One injected fault. The text form (for `ntp-sync serve --fault`) is shown per variant.
#[derive(Clone, Copy, PartialEq, Debug, Serialize, Deserialize)]
pub enum Fault {
    /// `offset:SECONDS`: the clock is off by this much more (negative: behind).
    Offset {
        /// Nanoseconds added to every timestamp.
        nanos: i64,
    },
    /// `drift:PPM`: the clock runs fast (or slow, negative) from the moment the fault is set.
    Drift {
        /// Parts per billion.
        ppb: i64,
    },
    /// `stratum:N`: advertise this stratum (16 or more: unsynchronised).
    Stratum(u8),
    /// `leap:N`: advertise this leap indicator (3: unsynchronised).
    Leap(LeapIndicator),
    /// `kod:CODE`: answer every request with this kiss-o'-death (DENY, RSTR, RATE, ...).
    KissOfDeath(KissCode),
    /// `spoof-origin`: echo a wrong origin timestamp.
    SpoofedOrigin,
    /// `silence`: do not answer at all.
    Silence,
}

/// A fault's text form did not parse.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[error("unknown fault {0:?}: expected offset:SECONDS, drift:PPM, stratum:N, leap:0-3, kod:CODE, spoof-origin or silence")]
pub struct FaultParseError(String);

impl FromStr for Fault {
    type Err = FaultParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let error = || FaultParseError(text.to_owned());
        let (kind, value) = text.split_once(':').unwrap_or((text, ""));
        let seconds = || {
            value
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && v.abs() < 1e9)
        };
        match kind {
            "silence" if value.is_empty() => Ok(Self::Silence),
            "spoof-origin" if value.is_empty() => Ok(Self::SpoofedOrigin),
            "offset" => seconds()
                .map(|s| Self::Offset {
                    nanos: (s * 1e9) as i64,
                })
                .ok_or_else(error),
            "drift" => seconds()
                .map(|ppm| Self::Drift {
                    ppb: (ppm * 1e3) as i64,
                })
                .ok_or_else(error),
            "stratum" => value.parse().map(Self::Stratum).map_err(|_| error()),
            "leap" => parse_leap(value).map(Self::Leap).ok_or_else(error),
            "kod" if value.len() == 4 && value.is_ascii() => {
                let code: [u8; 4] = value.as_bytes().try_into().map_err(|_| error())?;
                Ok(Self::KissOfDeath(KissCode::from_reference_id(code)))
            }
            _ => Err(error()),
        }
    }
}

fn parse_leap(value: &str) -> Option<LeapIndicator> {
    Some(match value {
        "0" => LeapIndicator::NoWarning,
        "1" => LeapIndicator::InsertSecond,
        "2" => LeapIndicator::DeleteSecond,
        "3" => LeapIndicator::Unsynchronised,
        _ => return None,
    })
}

/// How a responder behaves: its clock's error and what it says about itself.
#[derive(Clone, Copy, PartialEq, Debug, Default, Serialize, Deserialize)]
pub struct Behaviour {
    /// Nanoseconds added to the clock.
    pub offset_nanos: i64,
    /// Drift of the clock in ppb, from the moment it was set.
    pub drift_ppb: i64,
    /// The header fields and packet-level faults.
    pub params: ServerParams,
    /// Whether to stay silent.
    pub silent: bool,
}

impl Behaviour {
    /// The server's clock when its own reference reads `reference_nanos`: the offset, plus the
    /// drift since the behaviour was set at `set_at_nanos` (on the same reference).
    pub fn clock_at(&self, reference_nanos: i64, set_at_nanos: i64) -> i64 {
        let elapsed = i128::from(reference_nanos.saturating_sub(set_at_nanos));
        let drifted = (elapsed * i128::from(self.drift_ppb) / 1_000_000_000) as i64;
        reference_nanos
            .saturating_add(self.offset_nanos)
            .saturating_add(drifted)
    }

    /// Applies `fault` on top of the current behaviour.
    pub fn with(mut self, fault: Fault) -> Self {
        match fault {
            Fault::Offset { nanos } => self.offset_nanos = self.offset_nanos.saturating_add(nanos),
            Fault::Drift { ppb } => self.drift_ppb = ppb,
            Fault::Stratum(stratum) => self.params.stratum = stratum,
            Fault::Leap(leap) => self.params.leap = leap,
            Fault::KissOfDeath(code) => self.params.kiss = Some(code),
            Fault::SpoofedOrigin => self.params.spoof_origin = true,
            Fault::Silence => self.silent = true,
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_fault_kind() {
        let cases = [
            (
                "offset:-0.25",
                Fault::Offset {
                    nanos: -250_000_000,
                },
            ),
            ("drift:20", Fault::Drift { ppb: 20_000 }),
            ("stratum:16", Fault::Stratum(16)),
            ("leap:3", Fault::Leap(LeapIndicator::Unsynchronised)),
            ("kod:RATE", Fault::KissOfDeath(KissCode::Rate)),
            ("kod:ABCD", Fault::KissOfDeath(KissCode::Other(*b"ABCD"))),
            ("spoof-origin", Fault::SpoofedOrigin),
            ("silence", Fault::Silence),
        ];
        for (text, fault) in cases {
            assert_eq!(text.parse::<Fault>(), Ok(fault), "{text}");
        }
    }

    #[test]
    fn rejects_what_it_does_not_know() {
        for text in [
            "",
            "loud",
            "offset:x",
            "offset:inf",
            "leap:4",
            "kod:TOOLONG",
            "stratum:300",
            "silence:1",
        ] {
            let error = text.parse::<Fault>().unwrap_err();
            assert!(
                error.to_string().starts_with("unknown fault"),
                "{text}: {error}"
            );
        }
    }

    #[test]
    fn faults_stack_into_a_behaviour() {
        let behaviour = Behaviour::default()
            .with(Fault::Offset { nanos: 5 })
            .with(Fault::Offset { nanos: 7 })
            .with(Fault::Stratum(4))
            .with(Fault::Silence);
        assert_eq!(behaviour.offset_nanos, 12);
        assert_eq!(behaviour.params.stratum, 4);
        assert!(behaviour.silent);
    }
}
