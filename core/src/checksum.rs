//! Checksums of migration SQL.
//!
//! The ledger stores the sha256 of the up SQL as lowercase hex, the same
//! value as `encode(sha256(convert_to(sql, 'UTF8')), 'hex')` in SQL, so a
//! DBA can recompute it by hand.

use sha2::{Digest, Sha256};

/// Lowercase hex sha256 of `text`'s UTF-8 bytes.
pub fn sha256_hex(text: &str) -> String {
    hex(&Sha256::digest(text.as_bytes()))
}

/// Lowercase hex of arbitrary bytes.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[(b >> 4) as usize] as char);
        out.push(DIGITS[(b & 0xf) as usize] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_known_vectors() {
        assert_eq!(
            sha256_hex(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn differs_on_whitespace() {
        assert_ne!(sha256_hex("select 1"), sha256_hex("select 1 "));
    }
}
