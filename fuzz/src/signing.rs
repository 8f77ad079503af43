//! The keys of the `signature_header` target, shared with the seed writer so that its seeds
//! carry signatures the target accepts.

use hlc_middleware::signature::SigningKeys;

/// The target's key file: `k1` signs, `k2` verifies too (a roll in progress).
pub const KEY_FILE: &str = "k1 5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e\n\
                            k2 a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0\n";

/// The keys of [`KEY_FILE`].
pub fn keys() -> SigningKeys {
    SigningKeys::parse(KEY_FILE).expect("the fuzz key file is valid")
}

/// Keys that sign with `id`: the one of [`KEY_FILE`]'s lines naming it, alone.
pub fn signer(id: &str) -> SigningKeys {
    let line = KEY_FILE
        .lines()
        .find(|line| line.split_whitespace().next() == Some(id))
        .expect("a key of the fuzz key file");
    SigningKeys::parse(line).expect("the fuzz key file is valid")
}
