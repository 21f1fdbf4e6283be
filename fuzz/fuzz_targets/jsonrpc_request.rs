//! The JSON-RPC request parser of the socket API (one line from a client):
//! the envelope, then the typed request of the contract (lecteur-proto).
//! Never panics; an error always comes with a JSON-RPC error line.
#![no_main]

use lecteur::api::rpc;
use lecteur_proto::Request;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The connection reads UTF-8 lines; invalid UTF-8 never reaches the parser.
    let Ok(line) = std::str::from_utf8(data) else {
        return;
    };
    match rpc::parse(line) {
        Ok(envelope) => {
            assert!(envelope.params.is_object());
            let id = envelope.id.unwrap_or_default();
            match Request::parse(&envelope.method, envelope.params) {
                Ok(request) => assert_eq!(request.method(), envelope.method),
                Err(err) => assert!(!rpc::failure(&id, &err).is_empty()),
            }
            assert!(!rpc::success(&id, serde_json::Value::Null).is_empty());
        }
        Err((id, err)) => assert!(!rpc::failure(&id, &err).is_empty()),
    }
});
