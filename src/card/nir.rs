//! The NIR (numéro d'inscription au répertoire): 13 characters and a 2-digit
//! key, key = 97 − (NIR mod 97) with Corsica `2A` → 19 and `2B` → 18.

/// Splits a 15-character NIR into (13-character number, key, key valid).
pub fn split(nir: &str) -> Option<(&str, &str, bool)> {
    if nir.len() != 15 || !nir.is_ascii() {
        return None;
    }
    let (number, key) = nir.split_at(13);
    Some((number, key, key_is_valid(number, key)))
}

/// Computes the key of a 13-character NIR, `None` if it is not one.
pub fn key(number: &str) -> Option<u8> {
    if number.len() != 13 || !number.is_ascii() {
        return None;
    }
    let digits = match &number[5..7] {
        "2A" | "2a" => format!("{}19{}", &number[..5], &number[7..]),
        "2B" | "2b" => format!("{}18{}", &number[..5], &number[7..]),
        _ => number.to_string(),
    };
    let n: u64 = digits.parse().ok().filter(|_| digits.bytes().all(|b| b.is_ascii_digit()))?;
    Some((97 - n % 97) as u8)
}

fn key_is_valid(number: &str, key_str: &str) -> bool {
    match (key(number), key_str.parse::<u8>()) {
        (Some(k), Ok(given)) => key_str.bytes().all(|b| b.is_ascii_digit()) && k == given,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_keys() {
        // 1 85 05 78 006 084 → key 91 (a classic public example).
        assert_eq!(key("1850578006084"), Some(91));
        assert_eq!(split("185057800608491"), Some(("1850578006084", "91", true)));
        assert_eq!(split("185057800608492").map(|s| s.2), Some(false));
        assert_eq!(split("18505780060849"), None);
    }

    #[test]
    fn corsica_uses_19_and_18() {
        let a = key("185052A006084").unwrap();
        let n19: u64 = 1850519006084;
        assert_eq!(a as u64, 97 - n19 % 97);
        let b = key("185052B006084").unwrap();
        let n18: u64 = 1850518006084;
        assert_eq!(b as u64, 97 - n18 % 97);
        assert_eq!(key("185052C006084"), None);
    }
}
