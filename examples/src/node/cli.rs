//! The command line of `hlc_node`: its flags, `--no-hlc` among them for load comparisons.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use hlc_core::NodeId;
use hlc_middleware::UnsignedPolicy;
use http::Uri;

use super::{NodeConfig, DEFAULT_PROBE_INTERVAL};

/// `--max-offset`'s default, in the flag's unit: the library's default max offset.
const DEFAULT_MAX_OFFSET_MS: u64 = hlc_core::DEFAULT_MAX_OFFSET.as_millis() as u64;

/// `--probe-interval`'s default, in the flag's unit: [`DEFAULT_PROBE_INTERVAL`].
const DEFAULT_PROBE_INTERVAL_MS: u64 = DEFAULT_PROBE_INTERVAL.as_millis() as u64;

/// What `--unsigned` accepts: [`UnsignedPolicy`]'s two choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum UnsignedArg {
    /// Answer 401 to a stamp that is unsigned or badly signed.
    Refuse,
    /// Serve it, but never merge its stamp.
    Ignore,
}

impl From<UnsignedArg> for UnsignedPolicy {
    fn from(arg: UnsignedArg) -> Self {
        match arg {
            UnsignedArg::Refuse => Self::Refuse,
            UnsignedArg::Ignore => Self::Ignore,
        }
    }
}

/// A small axum service that stamps, merges and refuses HLC timestamps.
#[derive(Debug, Parser)]
#[command(name = "hlc_node", version)]
pub struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Node id: decimal, or hexadecimal with `0x` (default: random).
    #[arg(long, value_parser = parse_node_id)]
    pub node_id: Option<NodeId>,
    /// How far ahead (ms) a peer's timestamp may be before it is refused.
    #[arg(long, default_value_t = DEFAULT_MAX_OFFSET_MS)]
    pub max_offset: u64,
    /// Simulated skew (ms) added to this node's physical clock; may be negative.
    #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
    pub clock_offset: i64,
    /// Base URL of a peer node; repeat for several. Each is pinged at `/ping` every probe
    /// interval to measure its clock against this node's (two or more let the node fence
    /// itself when most find it far off); `POST /relay` calls the first through the client
    /// layer.
    #[arg(long, value_parser = parse_peer)]
    pub peer: Vec<Uri>,
    /// How often (ms) to ping the peers; at least 1.
    #[arg(
        long,
        value_name = "MS",
        default_value_t = DEFAULT_PROBE_INTERVAL_MS,
        value_parser = clap::value_parser!(u64).range(1..)
    )]
    pub probe_interval: u64,
    /// A key file (one `<key id> <key as hex>` a line; the first signs, all verify): sign
    /// every stamp sent and merge only stamps whose `hlc-signature` verifies.
    #[arg(long, value_name = "PATH")]
    pub hmac_key_file: Option<PathBuf>,
    /// With a key file, what an unsigned or badly signed stamp gets: `ignore` serves it
    /// unmerged, `refuse` answers 401.
    #[arg(long, value_enum, default_value = "ignore", requires = "hmac_key_file")]
    pub unsigned: UnsignedArg,
    /// Serve on the listening TCP socket passed as standard input (inetd `wait` style)
    /// instead of binding `--listen`: whoever holds the socket keeps the port across
    /// restarts of the node.
    #[arg(long)]
    pub listen_stdin: bool,
    /// Serve the same routes without the HLC layers (to measure what they cost).
    #[arg(long)]
    pub no_hlc: bool,
    /// An NTP server (`host:port`) to correct this node's clock against through ntp-sync;
    /// repeat for several (three or more let it outvote a liar).
    #[arg(long = "ntp", value_name = "SERVER")]
    pub ntp_servers: Vec<String>,
    /// Serve at once, answering 503 (`urn:hlc:clock-untrusted`) until ntp-sync says the clock
    /// is healthy; stop waiting after SECONDS, but keep answering 503 for as long as it is
    /// not (needs `--ntp`; without it the node waits for sync before it listens).
    #[arg(long, value_name = "SECONDS", requires = "ntp_servers")]
    pub wait_synced: Option<u64>,
    /// Persist an upper bound on the clock's stamps in this file, so that they keep
    /// increasing across restarts; with `--ntp`, the clock is built after the first sync (a
    /// node restarted with its clock set back starts once NTP has corrected it).
    #[arg(long, value_name = "PATH")]
    pub upper_bound_file: Option<PathBuf>,
    /// Test hook, never for production: serve `POST /admin/step?ms=N`, which steps the
    /// simulated clock by N ms at run time (beneath the NTP correction).
    #[arg(long)]
    pub chaos_admin: bool,
}

impl Args {
    /// The node configuration these flags describe.
    pub fn config(&self) -> NodeConfig {
        NodeConfig {
            node_id: self.node_id.unwrap_or_else(NodeId::random),
            max_offset: Duration::from_millis(self.max_offset),
            clock_offset_ms: self.clock_offset,
            peers: self.peer.clone(),
            probe_interval: Duration::from_millis(self.probe_interval),
            hmac_key_file: self.hmac_key_file.clone(),
            unsigned: self.unsigned.into(),
            hlc_layers: !self.no_hlc,
            ntp_servers: self.ntp_servers.clone(),
            wait_synced: self.wait_synced.map(Duration::from_secs),
            upper_bound_file: self.upper_bound_file.clone(),
            chaos_admin: self.chaos_admin,
        }
    }
}

fn parse_node_id(text: &str) -> Result<NodeId, String> {
    let parsed = match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => text.parse(),
    };
    parsed
        .map(NodeId::new)
        .map_err(|e| format!("not a node id (decimal, or hex with 0x): {e}"))
}

fn parse_peer(text: &str) -> Result<Uri, String> {
    let uri: Uri = text.parse().map_err(|e| format!("not a url: {e}"))?;
    match (uri.scheme_str(), uri.authority()) {
        (Some("http"), Some(_)) => Ok(uri),
        _ => Err("expected http://HOST:PORT".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_documented_ones() {
        let args = Args::try_parse_from(["hlc_node"]).unwrap();
        assert_eq!(args.listen, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(args.clock_offset, 0);
        assert!(args.peer.is_empty() && !args.no_hlc);
        assert!(args.upper_bound_file.is_none() && !args.chaos_admin);
        assert_eq!(args.config().probe_interval, DEFAULT_PROBE_INTERVAL);
        assert_eq!(args.config().unsigned, UnsignedPolicy::Ignore);
        assert_eq!(args.config().max_offset, hlc_core::DEFAULT_MAX_OFFSET);
    }

    #[test]
    fn every_flag_parses() {
        let args = Args::try_parse_from([
            "hlc_node",
            "--listen",
            "127.0.0.1:9000",
            "--node-id",
            "0xa1",
            "--max-offset",
            "250",
            "--clock-offset",
            "-1500",
            "--peer",
            "http://127.0.0.1:9001",
            "--peer",
            "http://127.0.0.1:9002",
            "--probe-interval",
            "200",
            "--hmac-key-file",
            "/tmp/keys",
            "--unsigned",
            "refuse",
            "--no-hlc",
            "--ntp",
            "127.0.0.1:11123",
            "--ntp",
            "127.0.0.1:11124",
            "--wait-synced",
            "20",
            "--upper-bound-file",
            "/tmp/hlc.bound",
            "--chaos-admin",
        ])
        .unwrap();
        let config = args.config();
        assert_eq!(config.node_id, NodeId::new(0xa1));
        assert_eq!(config.clock_offset_ms, -1500);
        let ports: Vec<_> = config.peers.iter().map(Uri::port_u16).collect();
        assert_eq!(ports, [Some(9001), Some(9002)]);
        assert_eq!(config.probe_interval, Duration::from_millis(200));
        assert_eq!(config.hmac_key_file, Some(PathBuf::from("/tmp/keys")));
        assert_eq!(config.unsigned, UnsignedPolicy::Refuse);
        assert!(!config.hlc_layers);
        assert_eq!(config.ntp_servers, ["127.0.0.1:11123", "127.0.0.1:11124"]);
        assert_eq!(config.wait_synced, Some(Duration::from_secs(20)));
        assert_eq!(
            config.upper_bound_file,
            Some(PathBuf::from("/tmp/hlc.bound"))
        );
        assert!(config.chaos_admin);
    }

    #[test]
    fn wait_synced_without_ntp_is_a_usage_error() {
        let error = Args::try_parse_from(["hlc_node", "--wait-synced", "5"]).unwrap_err();
        assert_eq!(
            error.kind(),
            clap::error::ErrorKind::MissingRequiredArgument
        );
        assert!(error.to_string().contains("--ntp"), "{error}");
    }

    #[test]
    fn bad_values_are_refused() {
        for bad in [
            ["--node-id", "a1"],
            ["--peer", "ftp://x"],
            ["--peer", "127.0.0.1:1"],
            ["--max-offset", "-1"],
            ["--unsigned", "refuse"],
            ["--probe-interval", "often"],
            ["--probe-interval", "0"],
        ] {
            let result = Args::try_parse_from(["hlc_node", bad[0], bad[1]]);
            assert!(result.is_err(), "{bad:?} accepted");
        }
        assert_eq!(parse_node_id("42"), Ok(NodeId::new(42)));
    }
}
