//! What more than one test of the examples needs.

use std::path::{Path, PathBuf};

/// `target/<profile>/examples/<name>`, the example binary that `cargo test` builds beside the
/// tests (`cargo test --test <one>` alone does not: it runs the last one built).
pub(crate) fn example_binary(name: &str) -> PathBuf {
    let test = std::env::current_exe().expect("the test's path");
    // target/<profile>/deps/<test> -> target/<profile>/examples/<name>
    let binary = test
        .parent()
        .and_then(Path::parent)
        .expect("the test runs from target/<profile>/deps")
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        binary.exists(),
        "{} is missing: build it with `cargo build -p hlc-examples --example {name}`",
        binary.display()
    );
    binary
}
