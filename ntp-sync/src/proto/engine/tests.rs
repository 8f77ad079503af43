use super::*;
use crate::proto::answer::{answer, ServerParams};

const NOW: i64 = 1_700_000_000_000_000_000;
const MS: i64 = 1_000_000;

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

fn engine(servers: u16) -> Engine {
    let mut engine = Engine::new(EngineConfig::default());
    for port in 0..servers {
        engine.add_source(format!("server-{port}"), Some(addr(port)));
    }
    engine
}

/// One successful poll of source `index` against a server `offset` ahead.
fn answered(engine: &mut Engine, index: usize, offset: i64) {
    let request = engine.begin_poll(index, 1_000 + index as u64);
    let response = answer(
        &request,
        NOW + MS + offset,
        NOW + MS + offset,
        &ServerParams::default(),
    )
    .unwrap();
    let local = LocalTimes {
        sent_nanos: NOW,
        received_nanos: NOW + 2 * MS,
    };
    engine
        .on_response(index, &response, addr(index as u16), local)
        .unwrap();
}

#[test]
fn no_sources_no_estimate() {
    assert_eq!(engine(0).evaluate(NOW).estimate(), None);
}

#[test]
fn sources_not_yet_heard_from_are_unusable() {
    let e = engine(2);
    assert_eq!(
        e.evaluate(NOW).states,
        vec![SourceState::Unusable(Unusable::NoResponseYet); 2]
    );
    assert_eq!(Unusable::NoResponseYet.to_string(), "no response yet");
}

#[test]
fn agreeing_sources_combine() {
    let mut e = engine(3);
    for (index, offset) in [(0, 10 * MS), (1, 10 * MS + 200_000), (2, 10 * MS - 200_000)] {
        answered(&mut e, index, offset);
    }
    let evaluation = e.evaluate(NOW + 2 * MS);
    let estimate = evaluation.estimate().unwrap();
    assert!((estimate.offset_nanos - 10 * MS).abs() <= estimate.radius_nanos);
    assert_eq!(estimate.at_nanos, NOW + 2 * MS);
    assert_eq!(estimate.newest_sample_nanos, NOW + 2 * MS);
    assert_eq!(evaluation.states, vec![SourceState::Combined; 3]);
}

#[test]
fn the_first_answer_cannot_decide_while_others_are_pending() {
    let mut e = engine(3);
    answered(&mut e, 0, 0);
    assert_eq!(e.evaluate(NOW + 2 * MS).outcome, Outcome::Undecided);
    answered(&mut e, 1, 0);
    assert!(
        e.evaluate(NOW + 2 * MS).estimate().is_some(),
        "two of three agree"
    );
}

#[test]
fn disagreement_withdraws_the_estimate_and_silence_keeps_it() {
    let mut e = engine(2);
    answered(&mut e, 0, 0);
    answered(&mut e, 1, 5_000 * MS);
    let evaluation = e.evaluate(NOW + 2 * MS);
    assert_eq!(evaluation.outcome, Outcome::NoMajority);
    let old = Estimate {
        offset_nanos: 0,
        radius_nanos: MS,
        at_nanos: NOW,
        newest_sample_nanos: NOW,
    };
    assert_eq!(evaluation.next_published(Some(old)), None);
    let silent = Evaluation {
        outcome: Outcome::NoSources,
        states: Vec::new(),
    };
    assert_eq!(silent.next_published(Some(old)), Some(old));
}

#[test]
fn a_failed_source_shows_its_reason_and_has_no_vote() {
    let mut e = engine(3);
    answered(&mut e, 0, 0);
    answered(&mut e, 1, 0);
    for _ in 0..4 {
        e.begin_poll(2, 5);
        e.on_failure(2, PollFailure::Timeout(Duration::from_secs(1)));
    }
    let evaluation = e.evaluate(NOW + 2 * MS);
    assert!(
        evaluation.estimate().is_some(),
        "two of two usable sources agree"
    );
    let reason = Unusable::Failing(PollFailure::Timeout(Duration::from_secs(1)));
    assert_eq!(evaluation.states[2], SourceState::Unusable(reason.clone()));
    assert_eq!(reason.to_string(), "no response within 1s");
}

#[test]
fn a_server_that_failed_its_first_polls_still_counts_as_undecided() {
    let mut e = engine(3);
    answered(&mut e, 0, 0);
    answered(&mut e, 1, 900 * MS);
    e.begin_poll(2, 5);
    e.on_failure(2, PollFailure::Timeout(Duration::from_secs(1)));
    let evaluation = e.evaluate(NOW + 2 * MS);
    assert_eq!(
        evaluation.outcome,
        Outcome::Undecided,
        "one against one, one to come"
    );
    let reason = Unusable::NotYetAnswered(PollFailure::Timeout(Duration::from_secs(1)));
    assert_eq!(
        reason.to_string(),
        "no valid response yet: no response within 1s"
    );
    assert_eq!(evaluation.states[2], SourceState::Unusable(reason));
}

#[test]
fn eight_failed_polls_in_a_row_take_away_the_vote() {
    let mut e = engine(1);
    answered(&mut e, 0, 0);
    for _ in 0..8 {
        e.begin_poll(0, 9);
        e.on_failure(0, PollFailure::Io("network unreachable".into()));
    }
    let evaluation = e.evaluate(NOW + 2 * MS);
    assert_eq!(evaluation.outcome, Outcome::NoSources);
    assert_eq!(
        evaluation.states[0],
        SourceState::Unusable(Unusable::Failing(PollFailure::Io(
            "network unreachable".into()
        )))
    );
}

#[test]
fn a_sample_older_than_void_after_is_stale() {
    let mut e = engine(1);
    answered(&mut e, 0, 0);
    let an_hour_later = NOW + 3_600 * 1_000 * MS + 2 * MS;
    assert_eq!(
        e.evaluate(an_hour_later).states[0],
        SourceState::Unusable(Unusable::Stale)
    );
}

#[test]
fn min_sources_is_honoured() {
    let mut e = Engine::new(EngineConfig {
        min_sources: 2,
        ..EngineConfig::default()
    });
    e.add_source("only", Some(addr(0)));
    answered(&mut e, 0, 0);
    assert_eq!(e.evaluate(NOW + 2 * MS).estimate(), None);
}

#[test]
fn a_refused_source_says_so() {
    let mut e = engine(1);
    let request = e.begin_poll(0, 3);
    let deny = ServerParams {
        kiss: Some(KissCode::Deny),
        ..ServerParams::default()
    };
    let response = answer(&request, NOW, NOW, &deny).unwrap();
    let local = LocalTimes {
        sent_nanos: NOW,
        received_nanos: NOW + MS,
    };
    assert!(e.on_response(0, &response, addr(0), local).is_err());
    assert_eq!(e.next_poll_in(0), None);
    assert_eq!(
        e.evaluate(NOW).states[0],
        SourceState::Unusable(Unusable::Refused(KissCode::Deny))
    );
}

#[test]
fn forgetting_samples_unsynchronises() {
    let mut e = engine(1);
    answered(&mut e, 0, 0);
    e.forget_samples();
    assert_eq!(e.evaluate(NOW + 2 * MS).estimate(), None);
}

#[test]
fn freshness_comes_from_the_newest_sample_not_the_best() {
    // 64 s polls: the first sample has the least delay and stays the filter's best while
    // seven more arrive. The estimate must count as fresh, since every poll answered.
    let mut e = engine(1);
    let poll = 64_000 * MS;
    for n in 0..8 {
        let sent = NOW + n * poll;
        let delay = if n == 0 { MS } else { 5 * MS };
        let request = e.begin_poll(0, 100 + n as u64);
        let response = answer(
            &request,
            sent + delay / 2,
            sent + delay / 2,
            &ServerParams::default(),
        )
        .unwrap();
        let local = LocalTimes {
            sent_nanos: sent,
            received_nanos: sent + delay,
        };
        e.on_response(0, &response, addr(0), local).unwrap();
    }
    let last = NOW + 7 * poll + 5 * MS;
    let estimate = e.evaluate(last).estimate().unwrap();
    assert_eq!(
        e.sources()[0].filter().best().unwrap().taken_at_nanos,
        NOW + MS
    );
    assert_eq!(estimate.newest_sample_nanos, last);
    assert_eq!(
        estimate.status_at(last, &StatusPolicy::default()),
        crate::proto::estimate::Status::Synchronised
    );
}

#[test]
fn a_coarse_clock_counts_its_tick_into_every_sample() {
    let coarse = EngineConfig::default().with_clock_resolution(Duration::from_millis(4));
    assert_eq!(coarse.local_precision_nanos, 4 * MS);
    let fine = EngineConfig::default().with_clock_resolution(Duration::from_nanos(1));
    assert_eq!(fine.local_precision_nanos, 1_000);
    let mut e = Engine::new(coarse);
    e.add_source("a", Some(addr(0)));
    answered(&mut e, 0, 0);
    let tick_wide = e.sources()[0].filter().best().unwrap().radius_nanos;
    let mut e = engine(1);
    answered(&mut e, 0, 0);
    let micro_wide = e.sources()[0].filter().best().unwrap().radius_nanos;
    assert_eq!(tick_wide - micro_wide, 4 * MS - 1_000);
}
