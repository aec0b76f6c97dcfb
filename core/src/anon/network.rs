//! IP addresses: keep the network (the first `keep_bits`), other host bits.

use super::Prf;
use std::net::IpAddr;

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
            let host = prf.bits("ip", &v4.octets()) as u32 & !mask;
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
            IpAddr::V6((orig & mask | (r & !mask)).into())
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
        assert_eq!(
            ip(&p, "10.0.0.1".parse().unwrap(), 32).to_string(),
            "10.0.0.1"
        );
    }
}
