//! Who may use the socket and how hard: an optional allow-list of users
//! (uids on Unix, SIDs on Windows; the peer's identity comes from
//! `listen`), and a per-connection request rate.

use std::time::{Duration, Instant};

/// The socket's access rules (lecteurd `--socket-group`, `--allow-uid`,
/// `--allow-sid`, `--max-rate`).
#[derive(Debug, Clone)]
pub struct Access {
    /// Group owning the socket (mode 0660): its members may connect. On
    /// Windows, a SID or SDDL alias given the pipe instead of interactive
    /// users.
    pub group: Option<String>,
    /// When set, only these uids are served; others get `not_allowed` (Unix).
    pub allowed_uids: Option<Vec<u32>>,
    /// When set, only these user SIDs may open the pipe and are served;
    /// others get `not_allowed` (Windows).
    pub allowed_sids: Option<Vec<String>>,
    /// Requests per second one connection may send (a burst of one second's
    /// worth is allowed); beyond, requests are answered `rate_limited`. 0: no limit.
    pub max_rate: u32,
}

impl Default for Access {
    fn default() -> Self {
        Access {
            group: None,
            allowed_uids: None,
            allowed_sids: None,
            max_rate: DEFAULT_MAX_RATE,
        }
    }
}

/// Far above what practice software sends (a few requests per user action),
/// low enough that a client stuck in a loop cannot monopolise the daemon.
pub const DEFAULT_MAX_RATE: u32 = 2000;

impl Access {
    /// Whether `uid` may be served (always, without an allow-list).
    pub fn allows(&self, uid: u32) -> bool {
        self.allowed_uids.as_ref().is_none_or(|l| l.contains(&uid))
    }

    /// Whether the user SID `sid` may be served (always, without an
    /// allow-list). SIDs are compared as Windows does, ignoring case.
    pub fn allows_sid(&self, sid: &str) -> bool {
        self.allowed_sids
            .as_ref()
            .is_none_or(|l| l.iter().any(|s| s.eq_ignore_ascii_case(sid)))
    }
}

/// Why a socket group cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum GroupError {
    /// /etc/group could not be read.
    #[error("/etc/group: {0}")]
    Table(#[source] std::io::Error),
    /// No group of that name.
    #[error("no group named {0:?} in /etc/group")]
    Unknown(String),
}

/// The gid of `group`: a number, or a name looked up in /etc/group.
pub fn gid_of(group: &str) -> Result<u32, GroupError> {
    if let Ok(gid) = group.parse() {
        return Ok(gid);
    }
    let table = std::fs::read_to_string("/etc/group").map_err(GroupError::Table)?;
    table
        .lines()
        .filter_map(|l| {
            let mut f = l.split(':');
            let name = f.next()?;
            let gid = f.nth(1)?.parse().ok()?;
            Some((name, gid))
        })
        .find(|(name, _)| *name == group)
        .map(|(_, gid)| gid)
        .ok_or_else(|| GroupError::Unknown(group.to_string()))
}

/// A token bucket: `rate` tokens a second, at most `rate` kept.
pub struct RateLimit {
    rate: f64,
    tokens: f64,
    last: Instant,
}

impl RateLimit {
    /// A full bucket of `rate` tokens a second (0: no limit).
    pub fn new(rate: u32) -> Self {
        RateLimit {
            rate: f64::from(rate),
            tokens: f64::from(rate),
            last: Instant::now(),
        }
    }

    /// Takes a token if there is one. A rate of 0 never limits.
    pub fn take(&mut self, now: Instant) -> bool {
        if self.rate == 0.0 {
            return true;
        }
        let elapsed = now
            .saturating_duration_since(self.last)
            .min(Duration::from_secs(1));
        self.last = now;
        self.tokens = (self.tokens + elapsed.as_secs_f64() * self.rate).min(self.rate);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// How long until the next token (as of the last `take`).
    pub fn until_next(&self) -> Duration {
        if self.rate == 0.0 || self.tokens >= 1.0 {
            return Duration::ZERO;
        }
        Duration::from_secs_f64((1.0 - self.tokens) / self.rate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_of_one_second_then_the_rate() {
        let t0 = Instant::now();
        let mut r = RateLimit::new(10);
        assert_eq!((0..20).filter(|_| r.take(t0)).count(), 10);
        assert!(!r.take(t0));
        // 0.25 s later: 2.5 tokens came back, 2 whole ones usable.
        let t1 = t0 + Duration::from_millis(250);
        assert_eq!((0..5).filter(|_| r.take(t1)).count(), 2);
    }

    #[test]
    fn the_next_token_is_due_at_the_rate() {
        let t0 = Instant::now();
        let mut r = RateLimit::new(4);
        while r.take(t0) {}
        assert_eq!(r.until_next(), Duration::from_millis(250));
        assert!(r.take(t0 + Duration::from_millis(250)));
        assert_eq!(RateLimit::new(0).until_next(), Duration::ZERO);
    }

    #[test]
    fn zero_means_no_limit() {
        let mut r = RateLimit::new(0);
        assert!((0..100_000).all(|_| r.take(Instant::now())));
    }

    #[test]
    fn allow_list() {
        let mut a = Access::default();
        assert!(a.allows(1234));
        a.allowed_uids = Some(vec![1000]);
        assert!(a.allows(1000) && !a.allows(1234) && !a.allows(0));
        assert!(a.allows_sid("S-1-5-21-1-2-3-1001"));
        a.allowed_sids = Some(vec!["S-1-5-21-1-2-3-1001".into()]);
        assert!(a.allows_sid("s-1-5-21-1-2-3-1001") && !a.allows_sid("S-1-5-21-1-2-3-1002"));
    }

    #[test]
    fn groups_by_number_and_name() {
        assert_eq!(gid_of("0").unwrap(), 0);
        assert_eq!(gid_of("root").unwrap(), 0);
        assert!(gid_of("no-such-group-here").is_err());
    }
}
