//! systemd's protocol where there is no systemd (Windows): no socket is
//! ever passed, and there is nobody to notify. The same names as
//! `systemd.rs`, so lecteurd's code has no `cfg`.

/// No socket is passed outside systemd.
pub fn activated_listener() -> Option<crate::api::listen::Activated> {
    None
}

/// Nobody to notify.
pub fn notify(_state: &str) {}
