//! The state kept per server: reach register, clock filter, poll schedule, the request in
//! flight, and what went wrong last.

use std::net::SocketAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::proto::filter::ClockFilter;
use crate::proto::packet::{LeapIndicator, Packet, HEADER_LEN};
use crate::proto::poll::{PollConfig, PollSchedule};
use crate::proto::sample::{LocalTimes, Sample, SampleParams};
use crate::proto::timestamp::NtpTimestamp;
use crate::proto::validate::{validate_response, Expected, KissCode, ResponseError};

/// Why a poll gave no sample.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error, Serialize, Deserialize)]
#[non_exhaustive]
pub enum PollFailure {
    /// No valid response within the timeout.
    #[error("no response within {0:?}")]
    Timeout(Duration),
    /// A response that failed a check.
    #[error(transparent)]
    Response(#[from] ResponseError),
    /// The server's name did not resolve.
    #[error("cannot resolve server: {0}")]
    Resolve(String),
    /// A socket error.
    #[error("socket error: {0}")]
    Io(String),
}

/// One server and everything known about it.
#[derive(Clone, Debug)]
pub struct Source {
    name: String,
    address: Option<SocketAddr>,
    /// The address came from resolving the name, so a failure may mean it changed.
    resolved: bool,
    reach: u8,
    filter: ClockFilter,
    schedule: PollSchedule,
    pending: Option<NtpTimestamp>,
    last_transmit: Option<NtpTimestamp>,
    last_failure: Option<PollFailure>,
    refused: Option<KissCode>,
    stratum: Option<u8>,
    leap: Option<LeapIndicator>,
    consecutive_failures: u32,
    answered: bool,
}

impl Source {
    /// A source named `name` (as the user gave it), at `address` once resolved.
    pub fn new(name: impl Into<String>, address: Option<SocketAddr>, poll: &PollConfig) -> Self {
        Self {
            name: name.into(),
            address,
            resolved: false,
            reach: 0,
            filter: ClockFilter::default(),
            schedule: PollSchedule::new(poll),
            pending: None,
            last_transmit: None,
            last_failure: None,
            refused: None,
            stratum: None,
            leap: None,
            consecutive_failures: 0,
            answered: false,
        }
    }

    /// The name as given.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The resolved address, if any.
    pub fn address(&self) -> Option<SocketAddr> {
        self.address
    }

    /// Sets the address the name resolved to. A failed poll forgets it again, so that a
    /// name is resolved anew while it fails (the server may have moved).
    pub fn set_address(&mut self, address: SocketAddr) {
        self.address = Some(address);
        self.resolved = true;
    }

    /// The reach register: bit 0 is the latest poll, set when it got a valid response.
    pub fn reach(&self) -> u8 {
        self.reach
    }

    /// The clock filter.
    pub fn filter(&self) -> &ClockFilter {
        &self.filter
    }

    /// The failure of the latest poll, `None` when it succeeded.
    pub fn last_failure(&self) -> Option<&PollFailure> {
        self.last_failure.as_ref()
    }

    /// The kiss code (`DENY` or `RSTR`) that made the server refuse us, if it did.
    pub fn refused(&self) -> Option<KissCode> {
        self.refused
    }

    /// The stratum of the latest valid response.
    pub fn stratum(&self) -> Option<u8> {
        self.stratum
    }

    /// The leap indicator of the latest valid response: what the server announces now.
    pub fn leap_indicator(&self) -> Option<LeapIndicator> {
        self.leap
    }

    /// Polls in a row that gave no sample.
    pub fn consecutive_failures(&self) -> u32 {
        self.consecutive_failures
    }

    /// Whether the server ever gave a valid response.
    pub fn has_answered(&self) -> bool {
        self.answered
    }

    /// Whether a poll is in flight (begun, and neither answered nor failed).
    pub fn is_polling(&self) -> bool {
        self.pending.is_some()
    }

    /// The wait before the next poll, or `None` when the server refused us for good.
    pub fn next_poll_in(&self, poll: &PollConfig) -> Option<Duration> {
        match self.refused {
            Some(_) => None,
            None => Some(self.schedule.interval(poll)),
        }
    }

    /// Starts a poll: returns the request to send. `random` becomes the request's transmit
    /// field, which the response must echo.
    pub fn begin_poll(&mut self, random: u64) -> [u8; HEADER_LEN] {
        let origin = NtpTimestamp::from_bits(random);
        self.pending = Some(origin);
        self.schedule.began();
        self.reach <<= 1;
        Packet::client_request(origin).encode()
    }

    /// Checks a response to the poll in flight and, if valid, stores its sample.
    ///
    /// # Errors
    ///
    /// The failed check. An invalid response leaves the poll in flight, so the real answer
    /// can still arrive before the timeout; a kiss-o'-death with a known code is acted upon
    /// (DENY and RSTR stop polling, RATE doubles the interval) and ends the poll, while
    /// unknown codes are ignored like any other unusable response (RFC 5905 §7.4).
    pub fn on_response(
        &mut self,
        bytes: &[u8],
        from: SocketAddr,
        local: LocalTimes,
        params: &SampleParams,
    ) -> Result<Sample, ResponseError> {
        let expected = Expected {
            server: self.address.unwrap_or(from),
            origin: self.pending.ok_or(ResponseError::Duplicate)?,
            last_transmit: self.last_transmit,
        };
        let packet = match validate_response(bytes, from, &expected) {
            Ok(packet) => packet,
            Err(ResponseError::KissOfDeath(code)) if code.demands_action() => {
                return Err(self.on_kiss(code))
            }
            Err(error) => return Err(error),
        };
        let sample = Sample::from_exchange(local, &packet, params);
        self.pending = None;
        self.last_transmit = Some(packet.transmit);
        self.reach |= 1;
        self.stratum = Some(packet.stratum);
        self.leap = Some(packet.leap);
        self.filter.push(sample);
        self.schedule.succeeded();
        self.last_failure = None;
        self.consecutive_failures = 0;
        self.answered = true;
        Ok(sample)
    }

    fn on_kiss(&mut self, code: KissCode) -> ResponseError {
        self.pending = None;
        match code {
            KissCode::Deny | KissCode::Restrict => self.refused = Some(code),
            _ => self.schedule.rate_limited(),
        }
        let error = ResponseError::KissOfDeath(code);
        self.last_failure = Some(error.into());
        self.consecutive_failures = self.consecutive_failures.saturating_add(1);
        error
    }

    /// Ends the poll in flight without a valid response. `failure` is the reason shown; when
    /// invalid responses arrived before the timeout, pass the last of them.
    pub fn on_failure(&mut self, failure: PollFailure) {
        self.pending = None;
        if self.resolved {
            self.address = None;
        }
        self.schedule.failed();
        self.last_failure = Some(failure);
        self.consecutive_failures = self.consecutive_failures.saturating_add(1);
    }

    /// Drops every sample (after a step of the local clock made them meaningless).
    pub fn forget_samples(&mut self) {
        self.filter.clear();
    }

    /// Keeps only the samples `keep` accepts (around a leap second, those certainly taken
    /// after the step).
    pub fn retain_samples(&mut self, keep: impl Fn(&Sample) -> bool) {
        self.filter.retain(keep);
    }

    /// Starts over after a disruption: drops every sample, abandons the poll in flight (its
    /// answer would be a sample taken across the gap: it is refused as a duplicate), and
    /// polls at once, then in a new burst.
    pub fn resynchronise(&mut self, poll: &PollConfig) {
        self.filter.clear();
        self.pending = None;
        self.schedule.restart(poll);
    }
}

#[cfg(test)]
mod tests;
