//! Credentials that must not get in: forged, expired, not-yet-valid and malformed access tokens,
//! and repeated wrong passwords (login throttling).

use crate::helpers::{Backend, JWT_SECRET, TestApp, on_both_backends, unique};
use serde_json::json;

on_both_backends!(
    forged_expired_and_malformed_tokens_are_401,
    repeated_login_failures_are_throttled,
);

fn forge(claims: &serde_json::Value, secret: &[u8]) -> String {
    let key = jsonwebtoken::EncodingKey::from_secret(secret);
    jsonwebtoken::encode(&jsonwebtoken::Header::default(), claims, &key).expect("signed")
}

async fn forged_expired_and_malformed_tokens_are_401(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (access, _, user_id) = app.member(&unique("fay")).await;
    let missing = app.get("/api/v1/users/me", None).await;
    missing.assert_problem(401, "missing_token");
    assert_eq!(missing.header("www-authenticate"), Some("Bearer"));

    let now = chrono::Utc::now().timestamp();
    let claims = |exp: i64| {
        json!({"sub": user_id, "sid": uuid::Uuid::now_v7(), "role": "admin", "iat": now - 1000, "exp": exp,
               "iss": "reserva", "aud": "reserva-api", "jti": uuid::Uuid::new_v4()})
    };
    let expired = forge(&claims(now - 1), JWT_SECRET.as_bytes());
    let wrong_key = forge(
        &claims(now + 600),
        b"some-other-secret-that-is-long-enough!!",
    );
    let valid_forgery = forge(&claims(now + 600), JWT_SECRET.as_bytes());
    let mut not_yet = claims(now + 600);
    not_yet["nbf"] = json!(now + 300);
    let not_yet_valid = forge(&not_yet, JWT_SECRET.as_bytes());
    let (header, rest) = access.split_once('.').expect("jwt");
    let (payload, signature) = rest.split_once('.').expect("jwt");
    let tampered = format!("{header}.{payload}x.{signature}");
    let alg_none = format!("{}.{payload}.", base64_url(r#"{"alg":"none","typ":"JWT"}"#));
    for token in [
        expired.as_str(),
        &wrong_key,
        &tampered,
        &alg_none,
        &not_yet_valid,
        "not-a-jwt",
    ] {
        app.get("/api/v1/users/me", Some(token))
            .await
            .assert_problem(401, "invalid_token");
    }
    // A correctly signed token whose role claim says admin gains nothing: admin claims are
    // always checked against storage.
    app.get("/api/v1/admin/users", Some(&valid_forgery))
        .await
        .assert_problem(403, "forbidden");
}

fn base64_url(text: &str) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let bytes = text.as_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let value = chunk
            .iter()
            .enumerate()
            .fold(0_u32, |acc, (i, b)| acc | u32::from(*b) << (16 - 8 * i));
        for index in 0..=chunk.len() {
            out.push(char::from(
                ALPHABET[((value >> (18 - 6 * index)) & 63) as usize],
            ));
        }
    }
    out
}

async fn repeated_login_failures_are_throttled(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let name = unique("gus");
    app.signup(&name).await;
    for _ in 0..5 {
        app.login(&name, "wrong-password1")
            .await
            .assert_problem(401, "invalid_credentials");
    }
    let throttled = app.login(&name, "secret123").await;
    throttled.assert_problem(429, "too_many_login_attempts");
    let retry_after: u64 = throttled
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .expect("Retry-After");
    assert!((1..=900).contains(&retry_after), "{retry_after}");
    let other = unique("hal");
    app.signup(&other).await;
    assert_eq!(
        app.login(&other, "secret123").await.status,
        200,
        "other accounts are unaffected"
    );
}
