//! IP addresses: keep the network (the first `keep_bits`), other host bits.

use super::Prf;
use std::net::IpAddr;

/// Keeping every bit would leave the address as it is.
pub fn check_keep_bits(keep: i64, v6: bool) -> Result<(), String> {
    let max = if v6 { 127 } else { 31 };
    if !(0..=max).contains(&keep) {
        return Err(format!(
            "keep_bits{} must be between 0 and {max}, not {keep}: keeping {} bits leaves the address unchanged",
            if v6 { "_v6" } else { "" },
            max + 1
        ));
    }
    Ok(())
}

pub fn ip(prf: &Prf, value: IpAddr, keep_bits: u32) -> IpAddr {
    match value {
        IpAddr::V4(v4) => {
            let keep = keep_bits.min(32);
            let orig = u32::from(v4);
            let mask = if keep == 0 {
                0
            } else {
                u32::MAX << (32 - keep)
            };
            let mut host = prf.bits("ip", &v4.octets()) as u32 & !mask;
            if host == orig & !mask && keep < 32 {
                host ^= 1; // never the address itself
            }
            IpAddr::V4((orig & mask | host).into())
        }
        IpAddr::V6(v6) => {
            let keep = keep_bits.min(128);
            let orig = u128::from(v6);
            let mask = if keep == 0 {
                0
            } else {
                u128::MAX << (128 - keep)
            };
            let r = ((prf.bits("ip", &v6.octets()) as u128) << 64)
                | prf.bits("ip6", &v6.octets()) as u128;
            let mut host = r & !mask;
            if host == orig & !mask && keep < 128 {
                host ^= 1;
            }
            IpAddr::V6((orig & mask | host).into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_network() {
        let p = Prf::new("s");
        let m = ip(&p, "192.168.10.42".parse().unwrap(), 24);
        assert!(m.to_string().starts_with("192.168.10."));
        assert_eq!(m, ip(&p, "192.168.10.42".parse().unwrap(), 24));
        let v6 = ip(&p, "2001:db8::1".parse().unwrap(), 64);
        assert!(v6.to_string().starts_with("2001:db8:"));
        // one host bit left: still never the address itself
        for i in 0..=255u8 {
            let a: IpAddr = format!("10.0.0.{i}").parse().unwrap();
            assert_ne!(ip(&p, a, 31), a);
            let b: IpAddr = format!("2001:db8::{i:x}").parse().unwrap();
            assert_ne!(ip(&p, b, 127), b);
        }
    }
}
