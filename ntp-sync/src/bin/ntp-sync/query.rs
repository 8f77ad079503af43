//! `ntp-sync query`: one burst to each server, a table or JSON, and the exit status.

use std::process::ExitCode;
use std::time::Duration;

use ntp_sync::proto::engine::SourceReport;
use ntp_sync::proto::estimate::Estimate;
use ntp_sync::proto::sample::DEFAULT_DRIFT_BOUND_PPB;
use ntp_sync::query::{query, QueryOptions, QueryReport};
use ntp_sync::Status;
use serde_json::{json, Value};

use crate::args::QueryArgs;
use crate::output::{out, rfc3339, seconds, signed_seconds, state};

pub(crate) async fn run(args: QueryArgs) -> ExitCode {
    let options = QueryOptions {
        samples: args.samples,
        timeout: Duration::from_millis(args.timeout),
        ..QueryOptions::default()
    };
    let report = query(&args.servers, options).await;
    let estimate = report.evaluation.estimate();
    match args.json {
        true => out(&to_json(&report).to_string()),
        false => print_table(&report),
    }
    if estimate.is_some() {
        return ExitCode::SUCCESS;
    }
    let reason = report
        .evaluation
        .outcome
        .failure_reason()
        .unwrap_or("no estimate");
    eprintln!("ntp-sync: no estimate: {reason}");
    ExitCode::from(2)
}

/// `(earliest, latest)` true time, nanoseconds since the Unix epoch.
fn bounds(estimate: &Estimate, at_nanos: i64) -> (i64, i64) {
    estimate.true_time_at(at_nanos, DEFAULT_DRIFT_BOUND_PPB)
}

fn to_json(report: &QueryReport) -> Value {
    let sources: Vec<Value> = report.sources.iter().map(source_json).collect();
    let estimate = report.evaluation.estimate().map(|e| {
        let (earliest, latest) = bounds(&e, report.at_nanos);
        json!({
            "offset_s": seconds(e.offset_nanos),
            "radius_s": seconds(e.radius_nanos),
            "earliest": rfc3339(earliest),
            "latest": rfc3339(latest),
            "status": Status::Synchronised.to_string(),
        })
    });
    json!({ "sources": sources, "estimate": estimate })
}

fn source_json(source: &SourceReport) -> Value {
    let (state, reason) = state(&source.state);
    json!({
        "server": source.server,
        "stratum": source.stratum,
        "offset_s": source.offset_nanos.map(seconds),
        "delay_s": source.delay_nanos.map(seconds),
        "radius_s": source.radius_nanos.map(seconds),
        "state": state,
        "reason": reason,
    })
}

fn print_table(report: &QueryReport) {
    out(&format!(
        "{:<28} {:>2} {:>5} {:>13} {:>11} {:>11}  STATE",
        "SERVER", "ST", "REACH", "OFFSET", "DELAY", "RADIUS"
    ));
    for source in &report.sources {
        out(&table_row(source));
    }
    match report.evaluation.estimate() {
        Some(e) => {
            let (earliest, latest) = bounds(&e, report.at_nanos);
            out(&format!(
                "estimate: offset {}s ± {:.6}s; true time in [{}, {}]",
                signed_seconds(e.offset_nanos),
                seconds(e.radius_nanos),
                rfc3339(earliest),
                rfc3339(latest)
            ));
        }
        None => out("estimate: none"),
    }
}

fn table_row(source: &SourceReport) -> String {
    let dash = || "-".to_owned();
    let (state, reason) = state(&source.state);
    format!(
        "{:<28} {:>2} {:>5o} {:>13} {:>11} {:>11}  {}{}",
        source.server,
        source.stratum.map_or_else(dash, |s| s.to_string()),
        source.reach,
        source
            .offset_nanos
            .map_or_else(dash, |n| format!("{}s", signed_seconds(n))),
        source
            .delay_nanos
            .map_or_else(dash, |n| format!("{:.6}s", seconds(n))),
        source
            .radius_nanos
            .map_or_else(dash, |n| format!("{:.6}s", seconds(n))),
        state,
        reason.map(|r| format!(": {r}")).unwrap_or_default()
    )
}
