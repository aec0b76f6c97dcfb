//! `hash`: HMAC-SHA256 of the value under the salt, as hex, a uuid, or a
//! bigint (for keys). Injective in practice (collisions are cryptographically
//! unlikely), not reversible.

use sha2::{Digest, Sha256};

pub fn hmac_sha256(salt: &str, value: &[u8]) -> [u8; 32] {
    let mut key = [0u8; 64];
    if salt.len() > 64 {
        key[..32].copy_from_slice(&Sha256::digest(salt.as_bytes()));
    } else {
        key[..salt.len()].copy_from_slice(salt.as_bytes());
    }
    let mut inner = Sha256::new();
    inner.update(key.map(|b| b ^ 0x36));
    inner.update(value);
    let inner = inner.finalize();
    let mut outer = Sha256::new();
    outer.update(key.map(|b| b ^ 0x5c));
    outer.update(inner);
    outer.finalize().into()
}

pub fn hex(salt: &str, value: &[u8]) -> String {
    crate::checksum::hex(&hmac_sha256(salt, value))
}

/// A version-4-shaped uuid from the hash (valid `uuid` text).
pub fn uuid(salt: &str, value: &[u8]) -> String {
    let mut b: [u8; 16] = hmac_sha256(salt, value)[..16]
        .try_into()
        .unwrap_or_default();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = crate::checksum::hex(&b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// A non-negative bigint from the hash.
pub fn bigint(salt: &str, value: &[u8]) -> i64 {
    let h = hmac_sha256(salt, value);
    (u64::from_be_bytes(h[..8].try_into().unwrap_or_default()) >> 1) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc4231_case_2() {
        // key "Jefe", data "what do ya want for nothing?"
        assert_eq!(
            crate::checksum::hex(&hmac_sha256("Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn formats() {
        assert_eq!(hex("s", b"a").len(), 64);
        let u = uuid("s", b"a");
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert!(bigint("s", b"a") >= 0);
        assert_ne!(hex("s", b"a"), hex("t", b"a"));
        assert_eq!(hex("s", b"a"), hex("s", b"a"));
        assert_eq!(hex("s", "é".repeat(100_000).as_bytes()).len(), 64);
        assert_ne!(hex("s", b""), hex("s", b" "));
    }
}
