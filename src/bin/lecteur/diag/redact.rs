//! The one redaction every text of a support bundle goes through: NIRs
//! masked down to sex, year and month of birth (`1 80 05 ** *** *** **`),
//! known names replaced by a salted SHA-256 prefix (the same name gives the
//! same token within one bundle, so support can follow it, but nothing
//! outside the bundle links it to a person).

use sha2::{Digest, Sha256};

pub(super) struct Redactor {
    salt: [u8; 16],
    /// Longest first, so that a name inside another is not half-replaced.
    names: Vec<String>,
}

impl Redactor {
    /// A random salt for each bundle.
    pub(super) fn new(names: &[String]) -> Redactor {
        let mut salt = [0u8; 16];
        // Without randomness, a fixed salt still hides names from a reader
        // of the bundle; only cross-bundle linking gets easier.
        let _ = getrandom::getrandom(&mut salt);
        Redactor::with_salt(salt, names)
    }

    pub(super) fn with_salt(salt: [u8; 16], names: &[String]) -> Redactor {
        let mut names: Vec<String> = names
            .iter()
            .map(|n| n.trim().to_string())
            .filter(|n| n.chars().count() >= 2)
            .collect();
        names.sort_by_key(|n| std::cmp::Reverse(n.len()));
        names.dedup();
        Redactor { salt, names }
    }

    /// `name#` and the first 12 hex digits of SHA-256(salt ‖ upper-case name).
    pub(super) fn name_token(&self, name: &str) -> String {
        let mut h = Sha256::new();
        h.update(self.salt);
        h.update(name.to_uppercase().as_bytes());
        format!("name#{}", &hex::encode(h.finalize())[..12])
    }

    pub(super) fn redact(&self, text: &str) -> String {
        let mut out = mask_nirs(text);
        for n in &self.names {
            out = replace_ignore_case(&out, n, &self.name_token(n));
        }
        out
    }
}

fn replace_ignore_case(text: &str, needle: &str, with: &str) -> String {
    let lower = text.to_lowercase();
    let n = needle.to_lowercase();
    // Lower-casing may change lengths outside ASCII: fall back to exact case.
    if lower.len() != text.len() || n.len() != needle.len() {
        return text.replace(needle, with);
    }
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (i, _) in lower.match_indices(&n) {
        if i < last {
            continue;
        }
        out.push_str(&text[last..i]);
        out.push_str(with);
        last = i + n.len();
    }
    out.push_str(&text[last..]);
    out
}

/// Masks every NIR-shaped run: 13 characters (15 with the key) of digits,
/// `2A`/`2B` allowed for the Corsican département, with optional single
/// spaces between groups, not touching other digits. Over-masking a long
/// number that is not a NIR is harmless; missing a NIR is not.
pub(super) fn mask_nirs(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let starts = matches!(chars[i], '1'..='8') && (i == 0 || !chars[i - 1].is_ascii_alphanumeric());
        if starts {
            if let Some((end, digits)) = nir_at(&chars, i) {
                out.push_str(&masked(&digits));
                i = end;
                continue;
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// The NIR starting at `start`: where it ends and its characters (no spaces).
fn nir_at(chars: &[char], start: usize) -> Option<(usize, Vec<char>)> {
    let mut digits = Vec::new();
    let mut i = start;
    let mut best = None;
    while i < chars.len() && digits.len() < 15 {
        let c = chars[i];
        let corsica = digits.len() == 6 && digits[5] == '2' && (c == 'A' || c == 'B');
        if c.is_ascii_digit() || corsica {
            digits.push(c);
            i += 1;
            let next_is_digit = chars.get(i).is_some_and(|c| c.is_ascii_alphanumeric());
            if (digits.len() == 13 || digits.len() == 15) && !next_is_digit {
                best = Some((i, digits.clone()));
            }
        } else if c == ' ' && chars.get(i + 1).is_some_and(|c| c.is_ascii_digit()) && !digits.is_empty() {
            i += 1;
        } else {
            break;
        }
    }
    // A 13-digit NIR followed by a spaced key is found as 15.
    best
}

fn masked(d: &[char]) -> String {
    let keep: String = d[..1].iter().collect();
    let year: String = d[1..3].iter().collect();
    let month: String = d[3..5].iter().collect();
    let mut s = format!("{keep} {year} {month} ** *** ***");
    if d.len() == 15 {
        s.push_str(" **");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_nirs_in_every_layout() {
        assert_eq!(mask_nirs("NIR 1800575056123"), "NIR 1 80 05 ** *** ***");
        assert_eq!(mask_nirs("NIR 180057505612389."), "NIR 1 80 05 ** *** *** **.");
        assert_eq!(
            mask_nirs("x 2 80 05 75 056 123 89 y"),
            "x 2 80 05 ** *** *** ** y"
        );
        assert_eq!(
            mask_nirs("\"nir\":\"1832099350018\""),
            "\"nir\":\"1 83 20 ** *** ***\""
        );
        assert_eq!(mask_nirs("Corse 1 85 03 2A 004 005"), "Corse 1 85 03 ** *** ***");
        for text in ["1150375115087", "115037511508706", "1 15 03 75 115 087 06"] {
            let m = mask_nirs(text);
            assert!(!m.contains("75115") && !m.contains("087"), "{text} -> {m}");
        }
    }

    #[test]
    fn leaves_other_numbers_alone() {
        for text in [
            "PIN tries 3",
            "ATR 3B751300004409EA9000",
            "12 ms",
            "123456789012",
            "port 35963",
            "sim:1",
        ] {
            assert_eq!(mask_nirs(text), text);
        }
        // A longer digit run is not a NIR cut in two.
        assert_eq!(mask_nirs("12345678901234567"), "12345678901234567");
    }

    #[test]
    fn hashes_names_with_a_salt() {
        let names = vec!["TRAL".to_string(), "ADEMIS".to_string()];
        let a = Redactor::with_salt([1; 16], &names);
        let b = Redactor::with_salt([2; 16], &names);
        let text = "holder Ademis TRAL, CN=TRAL";
        let ra = a.redact(text);
        assert!(
            !ra.to_uppercase().contains("TRAL") && !ra.to_uppercase().contains("ADEMIS"),
            "{ra}"
        );
        assert_eq!(ra.matches(&a.name_token("TRAL")).count(), 2, "{ra}");
        assert!(ra.starts_with("holder name#"), "{ra}");
        assert_ne!(a.name_token("TRAL"), b.name_token("TRAL"), "salted per bundle");
        assert_eq!(a.name_token("tral"), a.name_token("TRAL"));
        assert_eq!(Redactor::with_salt([1; 16], &[]).redact("TRAL"), "TRAL");
    }
}
