//! Names from built-in lists, and phone numbers that keep their country and
//! area code.

use super::Prf;

pub static FIRST_NAMES: &[&str] = &[
    "Ada", "Alan", "Alice", "Amara", "Ana", "Anders", "Aisha", "Akira", "Ben", "Bianca", "Carlos",
    "Chen", "Chloe", "Daniel", "Dara", "David", "Elena", "Emil", "Emma", "Fatima", "Felix",
    "Grace", "Hana", "Hugo", "Ines", "Ivan", "Jack", "Jana", "Jonas", "Julia", "Kai", "Karin",
    "Leila", "Leo", "Lina", "Lucas", "Maya", "Mateo", "Mei", "Mia", "Nadia", "Noah", "Nora",
    "Omar", "Olga", "Paul", "Priya", "Rafael", "Rosa", "Sam", "Sara", "Sofia", "Tariq", "Theo",
    "Uma", "Victor", "Vera", "Wei", "Yara", "Yusuf", "Zoe", "Zane",
];

pub static LAST_NAMES: &[&str] = &[
    "Abbott", "Adeyemi", "Alvarez", "Andersen", "Banerjee", "Becker", "Costa", "Dubois",
    "Eriksson", "Fischer", "Garcia", "Haddad", "Hansen", "Ito", "Jansen", "Kim", "Kowalski",
    "Larsen", "Lopez", "Martin", "Moreau", "Nakamura", "Nguyen", "Novak", "Okafor", "Olsen",
    "Petrov", "Quinn", "Rossi", "Santos", "Schmidt", "Silva", "Singh", "Tanaka", "Torres", "Urban",
    "Varga", "Wagner", "Wang", "Weber", "Xu", "Yilmaz", "Zhang", "Zimmer",
];

pub fn first_name(prf: &Prf, value: &str) -> &'static str {
    FIRST_NAMES[prf.below("first_name", value.as_bytes(), FIRST_NAMES.len() as u64) as usize]
}

pub fn last_name(prf: &Prf, value: &str) -> &'static str {
    LAST_NAMES[prf.below("last_name", value.as_bytes(), LAST_NAMES.len() as u64) as usize]
}

pub fn full_name(prf: &Prf, value: &str) -> String {
    format!("{} {}", first_name(prf, value), last_name(prf, value))
}

/// Keep the first `keep` digits (country and area code) and every
/// non-digit; replace the other digits.
pub fn phone(prf: &Prf, value: &str, keep: usize) -> String {
    let mut seen = 0;
    let mut bits = prf.bits("phone", value.as_bytes());
    let mut round = 0u8;
    value
        .chars()
        .map(|c| {
            if !c.is_ascii_digit() {
                return c;
            }
            seen += 1;
            if seen <= keep {
                return c;
            }
            if bits < 10 {
                round += 1;
                bits = prf.bits("phone", &[value.as_bytes(), &[round]].concat());
            }
            let d = (bits % 10) as u8;
            bits /= 10;
            (b'0' + d) as char
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_from_the_lists_and_deterministic() {
        let p = Prf::new("s");
        assert!(FIRST_NAMES.contains(&first_name(&p, "Ada")));
        assert_eq!(full_name(&p, "Ada Lovelace"), full_name(&p, "Ada Lovelace"));
        let differs = (0..50)
            .any(|i| full_name(&p, &i.to_string()) != full_name(&Prf::new("t"), &i.to_string()));
        assert!(differs);
        assert!(!full_name(&p, &"x".repeat(1_000_000)).is_empty());
    }

    #[test]
    fn phones_keep_format_and_prefix() {
        let p = Prf::new("s");
        let m = phone(&p, "+1 (555) 123-4567", 4);
        assert!(m.starts_with("+1 (555) "), "{m}");
        assert_eq!(m.len(), "+1 (555) 123-4567".len());
        assert_eq!(m, phone(&p, "+1 (555) 123-4567", 4));
        assert_eq!(phone(&p, "", 4), "");
        assert_eq!(phone(&p, "n/a", 4), "n/a");
        assert_eq!(phone(&p, &"9".repeat(100), 0).len(), 100);
    }
}
