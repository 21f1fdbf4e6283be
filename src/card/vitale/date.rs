//! Birth dates as the card holds them: `AAAAMMJJ`, or `AAMMJJ` when the
//! century is missing (the GIE API's `dateEnCarte`). Lunar dates (a month or
//! day that is not a calendar value) are legal and kept as they are; the
//! SESAM-Vitale rule computes with 01/01 of the year instead.

pub use lecteur_proto::vitale::BirthDate;

fn days_in_month(month: u32, leap: bool) -> Option<u32> {
    Some(match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    })
}

fn is_leap(y: u32) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

/// Decodes a raw birth date; never fails (unknown shapes are kept raw).
pub(super) fn birth_date(raw: &str) -> BirthDate {
    let digits = raw.bytes().all(|b| b.is_ascii_digit());
    let num = |r: std::ops::Range<usize>| raw[r].parse::<u32>().unwrap_or(0);
    let mut d = BirthDate {
        raw: raw.to_string(),
        iso: None,
        lunar: false,
        year_only: false,
        computation_date: None,
    };
    match raw.len() {
        8 if digits => {
            let (y, m, day) = (num(0..4), num(4..6), num(6..8));
            let calendar = days_in_month(m, is_leap(y)).is_some_and(|n| (1..=n).contains(&day));
            d.lunar = !calendar;
            let year = &raw[0..4];
            d.iso = calendar.then(|| format!("{year}-{}-{}", &raw[4..6], &raw[6..8]));
            d.computation_date = Some(d.iso.clone().unwrap_or_else(|| format!("{year}-01-01")));
        }
        6 if digits => {
            // 29 February counts as calendar: the century could make it a leap year.
            let (m, day) = (num(2..4), num(4..6));
            d.lunar = !days_in_month(m, true).is_some_and(|n| (1..=n).contains(&day));
            d.year_only = true;
        }
        _ => {}
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_lunar_and_missing_century() {
        let d = birth_date("19800512");
        assert_eq!(
            (d.iso.as_deref(), d.lunar, d.computation_date.as_deref()),
            (Some("1980-05-12"), false, Some("1980-05-12"))
        );
        let d = birth_date("19830032");
        assert_eq!(
            (d.iso, d.lunar, d.computation_date.as_deref()),
            (None, true, Some("1983-01-01"))
        );
        assert!(birth_date("19000229").lunar);
        assert!(!birth_date("20000229").lunar);
        let d = birth_date("800512");
        assert_eq!(
            (d.iso, d.lunar, d.year_only, d.computation_date),
            (None, false, true, None)
        );
        assert!(birth_date("801312").lunar && birth_date("801312").year_only);
        assert!(!birth_date("000229").lunar);
        let d = birth_date("1980-5-1");
        assert!(!d.lunar && !d.year_only && d.iso.is_none() && d.computation_date.is_none());
        assert_eq!(birth_date("").raw, "");
        assert!(birth_date("1980041").computation_date.is_none());
    }

    #[test]
    fn random_strings_never_panic() {
        let mut rng = crate::card::testutil::Rng::new(82);
        for input in rng.inputs(&[b"19830032".to_vec(), b"800512".to_vec()]) {
            let s: String = input.iter().map(|&b| b as char).collect();
            let _ = birth_date(&s);
        }
    }
}
