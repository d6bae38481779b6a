//! The OpenAPI document committed in `docs/openapi.json` must be exactly what the code generates,
//! so the published contract never drifts from the server. Regenerate it with
//! `UPDATE_OPENAPI=1 cargo test -p reserva-adapter-http --test openapi_document`.

use std::path::PathBuf;

#[test]
fn committed_openapi_document_matches_the_code() {
    let generated = reserva_adapter_http::openapi_json().expect("document serialises") + "\n";
    let committed_path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json");
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(&committed_path, &generated).expect("docs/openapi.json written");
        return;
    }
    let committed = std::fs::read_to_string(&committed_path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/openapi.json is stale; regenerate it with \
         UPDATE_OPENAPI=1 cargo test -p reserva-adapter-http --test openapi_document"
    );
}

#[test]
fn document_is_openapi_3_1_with_the_bearer_scheme() {
    let document: serde_json::Value =
        serde_json::from_str(&reserva_adapter_http::openapi_json().expect("json")).expect("valid");
    assert!(
        document["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1"))
    );
    assert_eq!(document["info"]["license"]["name"], "MIT OR Apache-2.0");
    assert_eq!(
        document["components"]["securitySchemes"]["bearer_auth"]["bearerFormat"],
        "JWT"
    );
    let me = &document["paths"]["/api/v1/users/me"]["get"];
    assert_eq!(me["security"][0]["bearer_auth"], serde_json::json!([]));
}
