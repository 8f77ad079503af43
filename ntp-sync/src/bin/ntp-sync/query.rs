//! `ntp-sync query`: one burst to each server and/or one read of the host kernel, a table or
//! JSON, and the exit status.

use std::process::ExitCode;
use std::time::Duration;

use ntp_sync::kernel::KernelView;
use ntp_sync::proto::combine::{combine, CombineAt, Combined};
use ntp_sync::proto::engine::SourceReport;
use ntp_sync::proto::estimate::{Estimate, StatusPolicy};
use ntp_sync::proto::sample::DEFAULT_DRIFT_BOUND_PPB;
use ntp_sync::query::{query, QueryOptions, QueryReport};
use ntp_sync::{Status, TimeSources};
use serde_json::{json, Value};

use crate::args::QueryArgs;
use crate::kernel;
use crate::output::{out, rfc3339, seconds, signed_seconds, state};

pub(crate) async fn run(args: QueryArgs) -> ExitCode {
    let options = QueryOptions {
        samples: args.samples,
        timeout: Duration::from_millis(args.timeout),
        ..QueryOptions::default()
    };
    let report = match args.servers.is_empty() {
        true => None,
        false => Some(query(&args.servers, options).await),
    };
    let kernel = match args.kernel.then(ntp_sync::kernel::read) {
        Some(Err(error)) => {
            eprintln!("ntp-sync: {error}");
            None
        }
        read => read.and_then(Result::ok),
    };
    let combined = combined(report.as_ref(), kernel.as_ref(), args.kernel);
    match args.json {
        true => out(&to_json(report.as_ref(), kernel.as_ref(), combined.as_ref()).to_string()),
        false => print_text(report.as_ref(), kernel.as_ref(), combined.as_ref()),
    }
    match failure(
        report.as_ref(),
        kernel.as_ref(),
        combined.as_ref(),
        args.kernel,
    ) {
        None => ExitCode::SUCCESS,
        Some(reason) => {
            eprintln!("ntp-sync: no estimate: {reason}");
            ExitCode::from(2)
        }
    }
}

/// With both servers and the kernel: what they give together, at the query's end (the query
/// measures against the system clock, which is the clock the kernel's figures bound).
fn combined(
    report: Option<&QueryReport>,
    kernel: Option<&KernelView>,
    kernel_asked: bool,
) -> Option<(Combined, i64)> {
    let report = report.filter(|_| kernel_asked)?;
    let network = report.evaluation.estimate();
    let kernel = kernel.and_then(|view| {
        let time = view.reading.time_nanos;
        view.estimate(time, time)
    });
    let at = CombineAt {
        now_nanos: report.at_nanos,
        drift_ppb: DEFAULT_DRIFT_BOUND_PPB,
        policy: StatusPolicy::default(),
    };
    Some((
        combine(TimeSources::Both, network, kernel, &at),
        report.at_nanos,
    ))
}

/// Why there is no bound to report, or `None` when there is one.
fn failure(
    report: Option<&QueryReport>,
    kernel: Option<&KernelView>,
    combined: Option<&(Combined, i64)>,
    kernel_asked: bool,
) -> Option<String> {
    if let Some((combined, _)) = combined {
        return match combined {
            Combined::Conflict(conflict) => Some(format!("one source lies: {conflict}")),
            Combined::Neither => Some("neither the servers nor the kernel give a bound".into()),
            _ => None,
        };
    }
    if let Some(report) = report {
        let reason = report.evaluation.outcome.failure_reason();
        return report
            .evaluation
            .estimate()
            .is_none()
            .then(|| reason.unwrap_or("no estimate").to_owned());
    }
    match (kernel, kernel_asked) {
        (Some(view), _) => kernel::unsynchronised(view).map(|r| format!("kernel: {r}")),
        (None, _) => Some("the kernel could not be read".to_owned()),
    }
}

/// `(earliest, latest)` true time, nanoseconds since the Unix epoch.
fn bounds(estimate: &Estimate, at_nanos: i64) -> (i64, i64) {
    estimate.true_time_at(at_nanos, DEFAULT_DRIFT_BOUND_PPB)
}

fn to_json(
    report: Option<&QueryReport>,
    kernel: Option<&KernelView>,
    combined: Option<&(Combined, i64)>,
) -> Value {
    let mut json = match report {
        Some(report) => network_json(report),
        None => json!({ "sources": [], "estimate": null }),
    };
    if let Some(view) = kernel {
        json["kernel"] = kernel::to_json(view);
    }
    if let Some((combined, at_nanos)) = combined {
        json["combined"] = combined_json(combined, *at_nanos);
    }
    json
}

/// The combination: the bound, or null; and the conflict, if that is why.
fn combined_json(combined: &Combined, at_nanos: i64) -> Value {
    let bound = combined.estimate().map(|e| {
        let (earliest, latest) = bounds(&e, at_nanos);
        json!({ "earliest": rfc3339(earliest), "latest": rfc3339(latest) })
    });
    let conflict = combined.conflict().map(|c| c.to_string());
    json!({ "bound": bound, "conflict": conflict })
}

fn network_json(report: &QueryReport) -> Value {
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

fn print_text(
    report: Option<&QueryReport>,
    kernel: Option<&KernelView>,
    combined: Option<&(Combined, i64)>,
) {
    if let Some(report) = report {
        print_table(report);
    }
    if let Some(view) = kernel {
        out(&kernel::line(view));
    }
    if let Some((combined, at_nanos)) = combined {
        match (combined.estimate(), combined.conflict()) {
            (Some(e), _) => {
                let (earliest, latest) = bounds(&e, *at_nanos);
                out(&format!(
                    "combined: true time in [{}, {}]",
                    rfc3339(earliest),
                    rfc3339(latest)
                ));
            }
            (None, Some(conflict)) => out(&format!("combined: none: {conflict}")),
            (None, None) => out("combined: none"),
        }
    }
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
