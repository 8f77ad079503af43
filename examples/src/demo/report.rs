//! What the demo saw, and how it reads.

use std::fmt;

use hlc_core::{NodeTimestamp, Timestamp};
use http::StatusCode;

use super::{NtpStep, Recording, BETA_SKEW_MS, MAX_OFFSET};

/// What the demo saw.
#[derive(Debug, Clone)]
pub struct DemoReport {
    /// Alpha's and beta's base URLs.
    pub urls: [String; 2],
    /// Client sends, alpha stamps `/time`, alpha stamps its response, client receives.
    pub causal_chain: [NodeTimestamp; 4],
    /// `POST beta/relay`: beta's call to alpha, which alpha refuses.
    pub beta_to_alpha: (StatusCode, serde_json::Value),
    /// Alpha's clock right after refusing beta: still on alpha's own time.
    pub alpha_after_refusal: Timestamp,
    /// Beta's clock at the same moment, for comparison.
    pub beta_clock: Timestamp,
    /// `POST alpha/relay`: alpha's call to beta, whose answer alpha's client layer refuses.
    pub alpha_to_beta: (StatusCode, serde_json::Value),
    /// Beta restarted on an NTP-corrected clock, and alpha's answer to it.
    pub ntp: NtpStep,
    /// Every stamped message, refusal and mark, for [`timeline`](super::timeline).
    pub timeline: Recording,
}

impl DemoReport {
    fn write_nodes(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [alpha, beta] = &self.urls;
        let max = MAX_OFFSET.as_millis();
        writeln!(
            f,
            "Two hlc_node instances in this process, max offset {max} ms:"
        )?;
        writeln!(f, "  alpha  node 0000000000000001  {alpha}  clock +0 ms")?;
        writeln!(
            f,
            "  beta   node 0000000000000002  {beta}  clock +{BETA_SKEW_MS} ms"
        )?;
        writeln!(f)
    }

    fn write_causality(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "1. A client stamps GET alpha/time; alpha merges the stamp and answers."
        )?;
        let labels = [
            "client sent",
            "alpha's /time",
            "alpha answered",
            "client received",
        ];
        for (label, stamp) in labels.iter().zip(&self.causal_chain) {
            writeln!(f, "   {label:<16} {stamp}  ({})", stamp.timestamp)?;
        }
        let increasing = self.causal_chain.windows(2).all(|w| w[0] < w[1]);
        writeln!(f, "   each stamp greater than the one before: {increasing}")?;
        writeln!(f)
    }

    fn write_refused_request(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "2. POST beta/relay: beta calls alpha, stamped {BETA_SKEW_MS} ms ahead of alpha."
        )?;
        write_answer(f, &self.beta_to_alpha)?;
        writeln!(
            f,
            "   alpha's clock after refusing: {}",
            self.alpha_after_refusal
        )?;
        writeln!(f, "   beta's clock meanwhile:       {}", self.beta_clock)?;
        writeln!(
            f,
            "   (alpha kept its own time: the skewed stamp was never merged)"
        )?;
        writeln!(f)
    }

    fn write_refused_response(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "3. POST alpha/relay: beta accepts alpha's call (alpha is behind), but"
        )?;
        writeln!(
            f,
            "   beta's answer is {BETA_SKEW_MS} ms ahead, so alpha's client layer refuses it."
        )?;
        write_answer(f, &self.alpha_to_beta)?;
        writeln!(f)
    }

    fn write_time_sync(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ntp = &self.ntp;
        writeln!(
            f,
            "4. Beta restarts, still {BETA_SKEW_MS} ms ahead, but corrects its clock with ntp-sync"
        )?;
        writeln!(
            f,
            "   against the NTP responder embedded in this process ({}).",
            ntp.server
        )?;
        writeln!(
            f,
            "   measured offset {:+.6} s, true time within ±{:.6} s; health: {:?}",
            ntp.measured_offset, ntp.radius, ntp.health
        )?;
        writeln!(
            f,
            "   POST beta/relay again, stamped with the corrected clock:"
        )?;
        write_answer(f, &ntp.beta_to_alpha)?;
        let body = &ntp.beta_to_alpha.1;
        for (label, answer) in [
            ("alpha's /time", &body["peer"]),
            ("beta received", &body["local"]),
        ] {
            if let Some(stamp) = answer["timestamp"].as_str() {
                writeln!(f, "   {label:<16} {stamp}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for DemoReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_nodes(f)?;
        self.write_causality(f)?;
        self.write_refused_request(f)?;
        self.write_refused_response(f)?;
        self.write_time_sync(f)
    }
}

/// The relay's status and error, and the peer's problem details when it refused the call.
fn write_answer(
    f: &mut fmt::Formatter<'_>,
    (status, body): &(StatusCode, serde_json::Value),
) -> fmt::Result {
    let error = body["error"].as_str().unwrap_or("(no error)");
    writeln!(f, "   the relay answered {status}: {error}")?;
    if let Some(detail) = body["peer_body"]["detail"].as_str() {
        let kind = body["peer_body"]["type"].as_str().unwrap_or("?");
        writeln!(f, "   alpha's refusal ({kind}): {detail}")?;
    }
    Ok(())
}
