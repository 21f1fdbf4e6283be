//! The diagnosis as data: findings by topic, plus facts per topic, and its
//! human rendering (read aloud to support over the phone).

use serde::Serialize;
use serde_json::{Map, Value};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum Severity {
    Ok,
    Info,
    Warning,
    Error,
}

impl Severity {
    fn label(self) -> &'static str {
        match self {
            Severity::Ok => "ok",
            Severity::Info => "info",
            Severity::Warning => "WARNING",
            Severity::Error => "ERROR",
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub(super) struct Finding {
    pub topic: &'static str,
    pub severity: Severity,
    pub message: String,
    /// What to do; `None` when all is well.
    pub remedy: Option<String>,
}

/// Topics in the order a technician reads them.
pub(super) const TOPICS: &[&str] = &[
    "lecteurd",
    "pcscd",
    "readers",
    "cps",
    "usb",
    "serial",
    "permissions",
    "latency",
];

#[derive(Default, Serialize)]
pub(super) struct Report {
    pub version: &'static str,
    pub lecteurd: Value,
    pub pcscd: Value,
    pub readers: Vec<Value>,
    pub cps: Vec<Value>,
    pub usb: Vec<Value>,
    pub hid: Vec<Value>,
    /// Where `hid` comes from: `hidapi`, or `sysfs` (tests, or hidapi failed).
    pub hid_source: Option<&'static str>,
    pub serial: Vec<Value>,
    pub permissions: Value,
    pub latency: Vec<Value>,
    pub findings: Vec<Finding>,
}

impl Report {
    pub(super) fn new() -> Report {
        Report {
            version: env!("CARGO_PKG_VERSION"),
            lecteurd: Value::Object(Map::new()),
            pcscd: Value::Object(Map::new()),
            permissions: Value::Object(Map::new()),
            ..Report::default()
        }
    }

    fn push(&mut self, topic: &'static str, severity: Severity, message: String, remedy: Option<String>) {
        self.findings.push(Finding {
            topic,
            severity,
            message,
            remedy,
        });
    }

    pub(super) fn ok(&mut self, topic: &'static str, message: impl Into<String>) {
        self.push(topic, Severity::Ok, message.into(), None);
    }

    pub(super) fn info(&mut self, topic: &'static str, message: impl Into<String>) {
        self.push(topic, Severity::Info, message.into(), None);
    }

    pub(super) fn warning(
        &mut self,
        topic: &'static str,
        message: impl Into<String>,
        remedy: impl Into<String>,
    ) {
        self.push(topic, Severity::Warning, message.into(), Some(remedy.into()));
    }

    pub(super) fn error(
        &mut self,
        topic: &'static str,
        message: impl Into<String>,
        remedy: impl Into<String>,
    ) {
        self.push(topic, Severity::Error, message.into(), Some(remedy.into()));
    }

    /// The worst severity found (what the exit status says).
    pub(super) fn worst(&self) -> Severity {
        self.findings
            .iter()
            .map(|f| f.severity)
            .max()
            .unwrap_or(Severity::Ok)
    }

    pub(super) fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// Grouped by topic, one line per finding, the remedy under it.
    pub(super) fn to_text(&self) -> String {
        let mut out = format!("lecteur diag {}\n", self.version);
        for topic in TOPICS {
            let here: Vec<&Finding> = self.findings.iter().filter(|f| f.topic == *topic).collect();
            if here.is_empty() {
                continue;
            }
            out.push_str(&format!("\n== {topic}\n"));
            for f in here {
                out.push_str(&format!("  [{:<7}] {}\n", f.severity.label(), f.message));
                if let Some(r) = &f.remedy {
                    out.push_str(&format!("            -> {r}\n"));
                }
            }
        }
        let counts = |s: Severity| self.findings.iter().filter(|f| f.severity == s).count();
        out.push_str(&format!(
            "\nsummary: {} error(s), {} warning(s)\n",
            counts(Severity::Error),
            counts(Severity::Warning)
        ));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_groups_by_topic_and_shows_remedies() {
        let mut r = Report::new();
        r.ok("pcscd", "pcscd installed");
        r.error(
            "lecteurd",
            "lecteurd is not running",
            "systemctl start lecteurd.socket",
        );
        let text = r.to_text();
        let l = text.find("== lecteurd").unwrap();
        let p = text.find("== pcscd").unwrap();
        assert!(l < p, "{text}");
        assert!(text.contains("-> systemctl start lecteurd.socket"), "{text}");
        assert_eq!(r.worst(), Severity::Error);
        assert_eq!(r.to_json()["findings"][0]["severity"], "ok");
    }
}
