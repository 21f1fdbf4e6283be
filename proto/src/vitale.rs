//! `vitale.read`.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VitaleParams {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reader: Option<String>,
    /// Read the card even when it has not moved since the last read.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub fresh: bool,
}
