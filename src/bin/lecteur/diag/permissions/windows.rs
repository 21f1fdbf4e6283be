//! Who may use lecteurd and the readers, on Windows: no group or device
//! modes to check. lecteurd's named pipe carries a security descriptor
//! limited to the allowed users (a refused user gets "access denied" when
//! connecting, reported under lecteurd), and a COM port is opened
//! exclusively by the first program: what matters is that nothing else
//! (a vendor's middleware, a modem tool) holds the reader's port.

use super::report::Report;
use serde_json::json;
use std::path::Path;

pub(super) fn check(pipe: &Path, report: &mut Report) {
    report.info(
        "permissions",
        format!(
            "{}: access is set by lecteurd's security descriptor (allowed users); COM ports open for one program at a time",
            pipe.display()
        ),
    );
    report.permissions = json!({
        "pipe": pipe.display().to_string(),
        "checked": false,
    });
}
