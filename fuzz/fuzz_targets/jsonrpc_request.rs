//! The JSON-RPC request parser of the socket API (one line from a client):
//! never panics; an error always comes with a JSON-RPC error object.
#![no_main]

use lecteur::api::rpc;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The connection reads UTF-8 lines; invalid UTF-8 never reaches the parser.
    let Ok(line) = std::str::from_utf8(data) else {
        return;
    };
    match rpc::parse(line) {
        Ok(req) => {
            assert!(req.params.is_object());
            let _ = rpc::success(req.id.unwrap_or_default(), serde_json::Value::Null);
        }
        Err((id, err)) => {
            let _ = serde_json::to_string(&rpc::failure(id, err));
        }
    }
});
