//! An NTPv4 client that bounds true time and feeds a hybrid logical clock.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use ntp_sync::{NtpClient, Responder, Status};
//!
//! let server = Responder::bind("127.0.0.1:0").await?; // stands in for 3-5 real servers
//! let client = NtpClient::builder().server(server.local_addr().to_string()).start()?;
//! client.wait_synced().await;
//! let now = client.now_interval(); // true time is in [now.earliest, now.latest]
//! assert_eq!(now.status, Status::Synchronised);
//! let hlc = hlc_core::Hlc::with_clock(client.corrected_clock());
//! client.commit_wait(hlc.now()).await?; // Spanner's commit wait
//! # Ok(())
//! # }
//! ```
//!
//! ntp-sync measures the local clock against several NTP servers in-process, throws out the
//! ones that disagree with the majority, and answers "true time is in `[earliest, latest]`",
//! worst case, under the assumptions below. It never steers the operating system's clock:
//! it gives a [`CorrectedClock`] for an [`Hlc`](hlc_core::Hlc), a [`Health`] signal for the
//! HLC's max offset, and [`commit_wait`](NtpClient::commit_wait).
//!
//! # What the bound means, and what it assumes
//!
//! [`NtpClient::now_interval`] returns a [`TimeInterval`]. While its status is
//! [`Synchronised`](Status::Synchronised) or [`FreeRunning`](Status::FreeRunning), true time
//! (UTC as the servers' reference clocks keep it) lies in `[earliest, latest]`, provided that:
//!
//! 1. **A strict majority of the servers that vote are honest**: an honest server's clock is
//!    within its advertised root distance (root delay / 2 + root dispersion) of true time.
//!    Servers not yet heard from count as voters until their first few polls fail; servers
//!    that stop answering (eight polls), refuse us (kiss-o'-death DENY/RSTR) or fail the
//!    checks of RFC 5905 have no vote. So an honest server that cannot be reached does not
//!    count: of seven servers, four honest with one of them unreachable leave three honest
//!    voters against three liars, no honest majority, and the interval may miss the truth.
//!    Configure enough honest servers that they stay a majority when some cannot be reached.
//! 2. **The local clock's rate is off by at most the drift bound** (default
//!    [`DEFAULT_DRIFT_BOUND_PPB`](proto::sample::DEFAULT_DRIFT_BOUND_PPB), RFC 5905's PHI,
//!    the tolerance of an undisciplined oscillator) between samples. The interval
//!    widens at that rate with the estimate's age. The default local clock is the
//!    [`SteadyClock`]: `CLOCK_MONOTONIC_RAW`, the oscillator as the kernel counts it, which no
//!    time daemon slews. The system clock would not do: chronyd slews it by up to
//!    83 333 ppm by default, tens of milliseconds between two polls. On a machine whose
//!    oscillator is worse than that (`chronyc tracking` shows the frequency chronyd has to
//!    correct), raise the bound with [`NtpClientBuilder::drift_bound_ppm`].
//! 3. **Nobody steps the local clock.** The steady clock cannot be stepped: an administrator
//!    or a host daemon's `makestep` moves the system clock, not it. A clock handed to
//!    [`NtpClientBuilder::clock`] in its place may be stepped: every read of the corrected
//!    clock, the interval and the health checks it against the monotonic clock and reads
//!    through a step as if it had not happened ([`proto::step_guard`]); the next poll
//!    notices the step too (or the watchdog's next heartbeat when the system clock was
//!    stepped), and the status turns [`Disrupted`](Status::Disrupted) until the client has
//!    resynchronised on the stepped clock.
//! 4. **A suspend or a pause is seen by the [watchdog](proto::watchdog)**, on by default
//!    ([`NtpClientBuilder::watchdog`]). The steady clock stops while the machine is
//!    suspended, and what it does while a virtual machine is paused or migrated is up to the
//!    hypervisor: an estimate kept on it cannot be trusted across such a gap. The watchdog
//!    reads `CLOCK_BOOTTIME`, `CLOCK_MONOTONIC`, `CLOCK_MONOTONIC_RAW` and `CLOCK_REALTIME` on
//!    a heartbeat ([`DEFAULT_HEARTBEAT`](proto::watchdog::DEFAULT_HEARTBEAT)) and before
//!    every use of a new sample; a suspend (boot time outrunning monotonic time), a heartbeat
//!    later than [`DEFAULT_PAUSE_THRESHOLD`](proto::watchdog::DEFAULT_PAUSE_THRESHOLD) beyond
//!    its sleep, or a step of the local clock makes the status
//!    [`Disrupted`](Status::Disrupted) at once, drops every sample (those from before the gap
//!    are never combined with those after it, and the poll in flight is abandoned) and polls
//!    every server at once. What it cannot see: a pause shorter than the threshold (reads
//!    during it are off by at most the drift over it, if the hypervisor let the clock run, or
//!    by the pause, if it stopped the clock), reads by other threads in the instant between
//!    the resume and the watchdog's next check, and a pause during which every clock the
//!    guest can read stood still. A step of the system clock alone is reported
//!    ([`Snapshot::last_disruption`], a `tracing` warning) and changes nothing for the steady
//!    clock, which it does not move.
//!
//! Network paths may be as asymmetric as they like: each sample's radius includes half the
//! round-trip delay, which bounds any split of it. Selection keeps every point covered by a
//! strict majority of the servers' intervals, so it contains the truth whenever assumption 1
//! holds, however the others lie ([`proto::select`] explains why this is not plain Marzullo). Two
//! against two, or one against one, is no majority: the status is then
//! [`Unsynchronised`](Status::Unsynchronised) and the interval unbounded, never a guess.
//! Without a fresh sample for [`StatusPolicy::free_running_after`] the status turns
//! free-running; after [`StatusPolicy::void_after`] the estimate is withdrawn.
//!
//! # What each status means for a caller deciding whether to serve
//!
//! - [`Synchronised`](Status::Synchronised): the interval holds under the assumptions and
//!   is fresh. Serve; for an HLC, serve while [`NtpClient::health`] is healthy (the radius
//!   and the corrected clock's distance within the share of max offset).
//! - [`FreeRunning`](Status::FreeRunning): no fresh sample for a while (servers silent or
//!   unreachable); the interval still holds, widening at the drift bound. Serve while the
//!   health stays healthy, and alert: it will not stay so.
//! - [`Unsynchronised`](Status::Unsynchronised): no estimate (none yet, no majority, or it
//!   went void). The interval is unbounded and the health unhealthy: do not serve anything
//!   that needs the bound (stamps checked against max offset, commit wait); commit wait
//!   returns an error.
//! - [`Disrupted`](Status::Disrupted): a suspend, a pause or a local clock step broke the
//!   link between the local clock and the estimate. The interval is unbounded and the health
//!   [`Health::Disrupted`]: stop serving as for unsynchronised; the corrected clock may be
//!   off by the whole gap. It lasts until the servers agree again on samples taken after the
//!   gap, normally one round trip, since every server is polled at once.
//!
//! In short: serve when [`Health::is_healthy`]; [`TimeInterval::status`] says why not.
//!
//! # Leap seconds
//!
//! True time is UTC in Unix-time numbering, which has no number for an inserted 23:59:60
//! (RFC 5905 §7.3's leap indicator announces one, §9 applies it at the end of the month).
//! When a strict majority of the servers that survive selection announce the same leap, the
//! client takes it in for the end of the current UTC month and
//! [`TimeInterval::leap`] (and [`Snapshot::leap`]) says it is pending. What it does to the
//! interval ([`proto::leap`] has the detail):
//!
//! - before the step, nothing, except that from [`LEAP_GUARD`](proto::leap::LEAP_GUARD)
//!   before it no sample that might have been taken across the step is combined;
//! - in the second after the step the interval covers both readings of the second (the old
//!   number and the new), and until an estimate measured after the step is in force it is a
//!   second wider on the side the step moves to: [`Health`] is then
//!   [`RadiusTooLarge`](Health::RadiusTooLarge) and a caller should stop stamping, as for
//!   any bound too wide, until the first poll after the leap. The status stays what it is:
//!   the interval still holds. A leap the majority announced that does not come only widens
//!   the interval.
//! - The corrected clock counts the inserted second again (never going backwards) or skips
//!   the deleted one.
//!
//! With [`NtpClientBuilder::leap_smear`] (off by default) the corrected clock instead
//! takes the second in linearly over the 24 hours around the leap, noon to noon UTC, as the
//! public smearing services do; the interval then bounds the smeared time (the timescale
//! the clock reports), and no reading is ever ambiguous or widened. This rests on the
//! majority's announcement: a leap announced by a majority that does not come makes a
//! smearing clock, and its interval, wrong by up to a second until the window ends. Never
//! mix smearing and stepping servers, nor nodes: during the window they disagree by up to
//! half a second; selection names such a falseticker in
//! [`SourceReport::probable_smear`](proto::engine::SourceReport::probable_smear). Not
//! covered: a majority that smears (it announces nothing, so the client sees no leap), the
//! kernel as the only source (its bound is taken as it is; with both sources the kernel's
//! is set aside from [`LEAP_GUARD`](proto::leap::LEAP_GUARD) before the step until the
//! leap is behind), a client that first synchronises within that guard of the step, and a
//! disruption there (the leap is forgotten and taken in again from the next announcement).
//!
//! # Choosing servers
//!
//! - Use **three to five independent servers**: different operators, different reference
//!   clocks. One server cannot be checked at all; two that disagree leave no majority; three
//!   tolerate one liar, five tolerate two.
//! - Prefer **near** servers with a **small root distance**: the radius is half the round
//!   trip plus the server's own root distance, so a server 40 ms away cannot give a bound
//!   below 20 ms.
//! - A pool name resolves to one address here: list `0.pool.ntp.org`, `1.pool.ntp.org`, ...
//!   rather than one name several times.
//! - Never mix **leap-smearing** servers (Google, AWS and Azure time services) with
//!   non-smearing ones: around a leap second they disagree by up to half a second and one
//!   side will be voted out, or no majority left (see [Leap seconds](#leap-seconds)).
//! - Poll public servers no faster than [`MIN_PUBLIC_POLL`](proto::poll::MIN_PUBLIC_POLL)
//!   (the default is [`DEFAULT_MIN_POLL`](proto::poll::DEFAULT_MIN_POLL) after a short
//!   initial burst); a `RATE` kiss doubles the interval for that server.
//!
//! # Performance and accuracy
//!
//! Reading the bound is one clock read and a sequence-lock read of the published estimate.
//! The benches (`cargo bench -p hlc-benches --bench ntp`) and the accuracy measured against
//! chronyd are in `benches/README.md`. `cargo test -p ntp-sync --test chronyd` measures a
//! chronyd on loopback faked 3 s ahead and 2 s behind (`faketime`) and checks that the truth
//! lies inside the interval. Only whole-second offsets can be faked: chronyd takes receive
//! timestamps from the kernel, which `faketime` does not fake; sub-second truths are tested
//! against this crate's [`Responder`].
//!
//! # The host kernel as a second source
//!
//! Many hosts already run chronyd or ntpd, which keep the kernel's own error figures
//! current. [`kernel::read`] reads them (one `adjtimex(2)` call with `modes = 0`, which
//! changes nothing) and [`proto::kernel`] turns them into a bound on `CLOCK_REALTIME`: its
//! `maxerror` (grown by the kernel between updates), widened by the phase correction still
//! pending and a second or two of the kernel's own growth; no bound at all while the kernel
//! says unsynchronised (`STA_UNSYNC`, `TIME_ERROR`, `maxerror` at its 16 s cap). A client
//! built with [`NtpClientBuilder::time_sources`] uses the network (the default), the
//! kernel, or both: with both it publishes their intersection, and when they do not meet
//! it publishes nothing and says so ([`Snapshot::conflict`]); see [`proto::combine`].
//! This rests on one more assumption: the host's daemon is honest about its `maxerror`.
//!
//! # Clock discipline
//!
//! [`NtpClient::corrected_clock`] is local time plus a correction that follows the
//! estimates ([`proto::discipline`]): stepped on the first estimate and whenever an estimate is
//! further than the step threshold from it (RFC 5905's STEPT; see
//! [`NtpClientBuilder::step_threshold`]), slewed otherwise at most 500 ppm, with the local
//! clock's frequency error learned from successive estimates. It never goes backwards: after
//! a backward step it holds still until time catches up. An offset beyond the panic
//! threshold ([`NtpClientBuilder::panic_threshold`]) is refused and reported in [`Snapshot::refused`] and by a
//! `tracing` error.
//!
//! [`NtpClient::health`] judges the clock the HLC reads, not just the bound: it is healthy
//! only when the interval is narrow enough and the corrected clock's reading lies close to
//! it (its worst-case error, from the reading to the far end of the interval, within the
//! limit). While the corrected clock slews towards a new estimate or holds still after a
//! backward step, health says [`Health::Converging`].
//!
//! # Layout
//!
//! Two parts. [`proto`] is the protocol without I/O, time always an input: the NTP codec,
//! the checks of RFC 5905, samples, the clock filter, the poll schedule, selection, the
//! engine over them, the discipline, the [tracker](proto::tracking) that runs after every
//! poll, the disruption [watchdog](proto::watchdog), the responder's answer and fault model,
//! and a [simulation](proto::sim) in virtual time. The crate root is the shell around it: the clocks it reads ([`SteadyClock`],
//! [`TokioClock`]), the lock-free read side ([`TrueTime`], [`CorrectedClock`]) and, with the
//! `tokio` feature (on by default), [`NtpClient`], [`Responder`], [`query`] and commit wait.
//!
//! # Features
//!
//! - `tokio` (default): the tokio shell, [`NtpClient`], [`Responder`], [`query`] and commit
//!   wait; it brings `tokio` (its `net`, `time`, `sync`, `rt` and `macros` features), `rand`
//!   (each request's random transmit value, which its answer must echo), `tracing` and `nix` (kernel receive
//!   timestamps). Without it the crate is the sans-IO [`proto`], the read side and
//!   [`kernel::read`], for a runtime of your own or the fuzz targets.
//! - `cli`: the `ntp-sync` program below, and with it `clap`, `tracing-subscriber`, `chrono`,
//!   `serde_json` and tokio's multi-threaded runtime. A library user never needs it:
//!   `cargo install --path ntp-sync --features cli` (or `cargo install ntp-sync --features
//!   cli` once published) installs the program.
//!
//! # The `ntp-sync` program
//!
//! Feature `cli`: `query [--samples N] [--timeout MS] [--json]
//! [--kernel] SERVER...` (servers optional with `--kernel`; exit 0 with an estimate, 2
//! without, 1 on usage errors), `serve --listen ADDR [--offset SECONDS] [--stratum N]
//! [--fault KIND]` and `watch [--json] [--min-poll SECONDS] [--max-poll SECONDS] [--kernel]
//! SERVER...` (the estimate after each poll and a line for every status change and
//! disruption; with `--json`, one object a line).
#![cfg_attr(docsrs, feature(doc_cfg))]
// Where links from other crates' docs point when these docs were not built beside them
// (`cargo doc --no-deps` builds crates in parallel): docs.rs, at the latest 0.1 release.
#![doc(html_root_url = "https://docs.rs/ntp-sync/0.1")]

pub mod proto;

#[cfg(feature = "tokio")]
mod client;
#[cfg(feature = "tokio")]
mod commit_wait;
mod corrected;
#[cfg(feature = "tokio")]
mod host_clocks;
pub mod kernel;
#[cfg(feature = "tokio")]
mod lock;
#[cfg(feature = "tokio")]
mod net;
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub mod query;
mod readings;
#[cfg(feature = "tokio")]
mod responder;
#[cfg(feature = "tokio")]
mod stamped_socket;
mod steady_clock;
#[cfg(feature = "tokio")]
mod tokio_clock;
mod true_time;

pub use corrected::CorrectedClock;
pub use proto::bound::{Health, ReadPolicy, TimeInterval, DEFAULT_HEALTH_SHARE};
pub use proto::combine::TimeSources;
pub use proto::discipline::DisciplineError;
pub use proto::engine::EngineConfig;
pub use proto::estimate::{Status, StatusPolicy};
pub use proto::fault::{Behaviour, Fault, FaultParseError};
pub use proto::poll::PollConfig;
pub use proto::watchdog::{Disruption, DisruptionKind, WatchdogConfig};
pub use steady_clock::SteadyClock;
pub use true_time::TrueTime;

#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub use client::{NtpClient, NtpClientBuilder, Snapshot, StartError, HEALTH_REPORT_INTERVAL};
/// The former name of [`StartError`], kept so that code written against it still builds; it
/// was renamed to tell it apart from [`hlc_core::BuildError`].
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
#[deprecated(note = "renamed to `StartError`")]
pub type BuildError = StartError;
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub use commit_wait::CommitWaitError;
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub use net::NTP_PORT;
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub use responder::{Responder, ResponderBuilder};
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub use tokio_clock::TokioClock;
