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

/// Every operation of the document, with its path and method.
fn operations(document: &serde_json::Value) -> Vec<(String, String, serde_json::Value)> {
    let paths = document["paths"].as_object().into_iter().flatten();
    paths
        .flat_map(|(path, item)| {
            let operations = item.as_object().into_iter().flatten();
            operations.map(|(method, operation)| (path.clone(), method.clone(), operation.clone()))
        })
        .collect()
}

#[test]
fn every_error_answer_is_documented_as_problem_json_with_the_envelope_answers() {
    let document: serde_json::Value =
        serde_json::from_str(&reserva_adapter_http::openapi_json().expect("json")).expect("valid");
    let operations = operations(&document);
    assert!(operations.len() > 15, "{} operations", operations.len());
    for (path, method, operation) in operations {
        let responses = operation["responses"].as_object().expect("responses");
        let mut expected = Vec::new();
        if operation.get("requestBody").is_some() {
            expected.extend(["400", "413", "415"]);
        }
        if operation["security"].is_array() {
            expected.push("401");
        }
        if path.starts_with("/api/") {
            expected.push("503");
        }
        let parameters = operation["parameters"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if parameters.iter().any(|p| p["in"] == "path") {
            expected.extend(["400", "404"]);
        }
        if parameters.iter().any(|p| p["in"] == "query") {
            expected.push("400");
        }
        for status in expected {
            assert!(
                responses.contains_key(status),
                "{method} {path} does not document {status}"
            );
        }
        for (status, response) in responses {
            assert!(
                response["description"]
                    .as_str()
                    .is_some_and(|d| !d.is_empty()),
                "{method} {path} {status} has no description"
            );
            if status.starts_with('4') || status.starts_with('5') {
                let types: Vec<&String> = response["content"]
                    .as_object()
                    .map(|content| content.keys().collect())
                    .unwrap_or_default();
                assert_eq!(
                    types,
                    ["application/problem+json"],
                    "{method} {path} {status}"
                );
            }
        }
    }
}
