//! docs/openrpc.json is what the contract generates, byte for byte.
//! `LECTEUR_BLESS=1 cargo test -p lecteur-proto --test openrpc` rewrites it.

use std::path::Path;

#[test]
fn the_document_is_the_generated_one() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/openrpc.json");
    let generated = lecteur_proto::openrpc::json();
    if std::env::var_os("LECTEUR_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(&path, &generated).expect("writing docs/openrpc.json");
        return;
    }
    let written = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        written == generated,
        "docs/openrpc.json is not the generated contract: run `LECTEUR_BLESS=1 cargo test -p lecteur-proto --test openrpc`"
    );
}
