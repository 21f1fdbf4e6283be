//! The module's few messages. A PKCS#11 module lives in someone else's
//! process (a browser, a TLS client): it writes to their stderr only when
//! asked, with `LECTEUR_LOG` set (the variable lecteurd reads), and never
//! a PIN or card holder data.

/// A condition the user may need to know about (a card whose certificate
/// the module cannot fully use).
pub(crate) fn warn(message: &str) {
    if std::env::var_os("LECTEUR_LOG").is_some() {
        eprintln!("lecteur-pkcs11: warning: {message}");
    }
}
