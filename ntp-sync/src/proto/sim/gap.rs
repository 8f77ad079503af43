//! Stretches of true time in which the simulated client does not run: the machine
//! suspended, or the process or its virtual machine paused.

/// What stopped the client.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum GapKind {
    /// The machine slept: the oscillator (and so the steady clock and `CLOCK_MONOTONIC`)
    /// stood still, `CLOCK_BOOTTIME` and the system clock counted on.
    Suspend,
    /// The process or its virtual machine was stopped; every clock kept counting (a
    /// hypervisor that catches the guest's clocks up on resume looks the same).
    Pause,
}

/// One gap.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Gap {
    /// When it starts, in true time.
    pub at_nanos: i64,
    /// How long it lasts.
    pub for_nanos: i64,
    /// What it is.
    pub kind: GapKind,
}

impl Gap {
    /// When the client runs again.
    pub fn end_nanos(&self) -> i64 {
        self.at_nanos.saturating_add(self.for_nanos)
    }

    /// Whether the client is stopped at true time `true_nanos`.
    pub fn covers(&self, true_nanos: i64) -> bool {
        self.at_nanos <= true_nanos && true_nanos < self.end_nanos()
    }
}

/// Time spent suspended before true time `true_nanos`.
pub(super) fn asleep_by(gaps: &[Gap], true_nanos: i64) -> i64 {
    gaps.iter()
        .filter(|gap| gap.kind == GapKind::Suspend)
        .map(|gap| (true_nanos - gap.at_nanos).clamp(0, gap.for_nanos.max(0)))
        .sum()
}

/// The first instant at or after `true_nanos` at which the client runs.
pub(super) fn resumes_at(gaps: &[Gap], true_nanos: i64) -> i64 {
    let mut at = true_nanos;
    while let Some(gap) = gaps.iter().find(|gap| gap.covers(at)) {
        at = gap.end_nanos();
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suspends_count_as_sleep_and_every_gap_delays_the_client() {
        let gaps = [
            Gap {
                at_nanos: 100,
                for_nanos: 50,
                kind: GapKind::Suspend,
            },
            Gap {
                at_nanos: 150,
                for_nanos: 10,
                kind: GapKind::Pause,
            },
        ];
        assert_eq!(asleep_by(&gaps, 99), 0);
        assert_eq!(asleep_by(&gaps, 120), 20);
        assert_eq!(asleep_by(&gaps, 1_000), 50);
        assert_eq!(resumes_at(&gaps, 99), 99);
        assert_eq!(resumes_at(&gaps, 100), 160);
        assert_eq!(resumes_at(&gaps, 155), 160);
        assert_eq!(resumes_at(&gaps, 160), 160);
    }
}
