//! [`HlcPropagator`]: the `hlc` field through OpenTelemetry's propagation API.

use std::fmt;
use std::sync::Arc;

use hlc_core::{Hlc, PhysicalClock, SystemClock};
use opentelemetry::propagation::text_map_propagator::FieldIter;
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::Context;

use crate::extension::PeerTimestamp;
use crate::header;

/// Carries HLC timestamps in the `hlc` field of any text map carrier.
///
/// Injecting is a send event: it writes `hlc.now()` in the header text form. Extracting only
/// parses: a valid field becomes a [`PeerTimestamp`] in the returned context, and merging it
/// (a receive event, which may be refused) is left to the receiver, who decides what a
/// refusal means for its message. A malformed field is ignored, and so are two or more `hlc`
/// fields in one carrier (as [`header::decode`] rules), which the propagator sees when the
/// carrier's [`Extractor::get_all`] returns every value, as `opentelemetry-http`'s
/// `HeaderExtractor` does.
///
/// ```
/// use std::{collections::HashMap, sync::Arc};
/// use hlc_core::Hlc;
/// use hlc_middleware::{opentelemetry::HlcPropagator, PeerTimestamp};
/// use opentelemetry::{propagation::TextMapPropagator, Context};
///
/// let (producer, consumer) = (Arc::new(Hlc::new()), Hlc::new());
/// let mut carrier = HashMap::new();
/// HlcPropagator::new(producer).inject_context(&Context::new(), &mut carrier);
///
/// let extractor = HlcPropagator::new(Arc::new(Hlc::new()));
/// let cx = extractor.extract_with_context(&Context::new(), &carrier);
/// let PeerTimestamp(sent) = *cx.get::<PeerTimestamp>().unwrap();
/// assert!(consumer.update(sent.timestamp)? > sent.timestamp);
/// # Ok::<(), hlc_core::UpdateError>(())
/// ```
pub struct HlcPropagator<C = SystemClock> {
    hlc: Arc<Hlc<C>>,
    fields: [String; 1],
}

impl<C: PhysicalClock> HlcPropagator<C> {
    /// A propagator stamping from `hlc`.
    pub fn new(hlc: Arc<Hlc<C>>) -> Self {
        Self {
            hlc,
            fields: [header::HLC.as_str().to_owned()],
        }
    }
}

impl<C> fmt::Debug for HlcPropagator<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HlcPropagator")
            .field("hlc", &self.hlc)
            .finish_non_exhaustive()
    }
}

impl<C> Clone for HlcPropagator<C> {
    fn clone(&self) -> Self {
        Self {
            hlc: Arc::clone(&self.hlc),
            fields: self.fields.clone(),
        }
    }
}

impl<C: PhysicalClock> TextMapPropagator for HlcPropagator<C> {
    fn inject_context(&self, _cx: &Context, injector: &mut dyn Injector) {
        let stamp = self.hlc.now_with_node();
        injector.set(&self.fields[0], stamp.to_string());
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        // `get_all`, not `get`: a carrier with two `hlc` fields is malformed (HEADER.md), the
        // same rule the layers apply to a header map.
        let fields = extractor.get_all(&self.fields[0]).unwrap_or_default();
        match header::decode_fields(fields.iter().map(|text| text.as_bytes())) {
            Ok(Some(stamp)) => cx.with_value(PeerTimestamp(stamp)),
            Ok(None) | Err(_) => cx.clone(),
        }
    }

    fn fields(&self) -> FieldIter<'_> {
        FieldIter::new(&self.fields)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hlc_core::{ManualClock, NodeTimestamp};
    use std::collections::HashMap;

    fn propagator() -> HlcPropagator<ManualClock> {
        HlcPropagator::new(Arc::new(Hlc::with_clock(ManualClock::new(1_000_000))))
    }

    #[test]
    fn injecting_is_a_send_event_and_extracting_parses_it_back() {
        let propagator = propagator();
        let mut carrier = HashMap::new();
        propagator.inject_context(&Context::new(), &mut carrier);
        assert_eq!(
            propagator.hlc.last(),
            carrier["hlc"].parse::<NodeTimestamp>().unwrap().timestamp
        );
        let cx = propagator.extract_with_context(&Context::new(), &carrier);
        let PeerTimestamp(stamp) = *cx.get::<PeerTimestamp>().unwrap();
        assert_eq!(stamp.timestamp, propagator.hlc.last());
        assert_eq!(propagator.fields().collect::<Vec<_>>(), ["hlc"]);
    }

    #[test]
    fn a_malformed_field_leaves_the_context_as_it_was() {
        let propagator = propagator();
        let carrier = HashMap::from([("hlc".to_owned(), "00-NOPE".to_owned())]);
        let cx = propagator.extract_with_context(&Context::new(), &carrier);
        assert!(cx.get::<PeerTimestamp>().is_none());
    }

    #[test]
    fn two_hlc_fields_are_malformed_even_when_both_are_valid() {
        let propagator = propagator();
        let mut headers = http::HeaderMap::new();
        for text in [
            "00-0006412b3c4d5003-00000000000000a1",
            "00-0006412b3c4d5004-00000000000000a2",
        ] {
            headers.append(crate::header::HLC, text.parse().unwrap());
        }
        let carrier = opentelemetry_http::HeaderExtractor(&headers);
        let cx = propagator.extract_with_context(&Context::new(), &carrier);
        assert_eq!(cx.get::<PeerTimestamp>(), None);

        // One of them alone is extracted.
        headers.remove(crate::header::HLC);
        headers.insert(
            crate::header::HLC,
            "00-0006412b3c4d5004-00000000000000a2".parse().unwrap(),
        );
        let carrier = opentelemetry_http::HeaderExtractor(&headers);
        let cx = propagator.extract_with_context(&Context::new(), &carrier);
        let PeerTimestamp(stamp) = *cx.get::<PeerTimestamp>().unwrap();
        assert_eq!(stamp.timestamp.as_u64(), 0x0006_412b_3c4d_5004);
    }
}
