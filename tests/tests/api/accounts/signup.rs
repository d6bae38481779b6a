//! Signing up, logging in, reading and changing one's profile, and deactivating the account:
//! the whole life of one account over HTTP.

use crate::helpers::{Backend, TestApp, on_both_backends, unique};
use serde_json::json;

on_both_backends!(signup_login_profile_and_deactivation,);

async fn signup_login_profile_and_deactivation(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let name = unique("ann");
    let user = app.signup(&name).await;
    assert_eq!(user["email"], format!("{name}@example.com"));
    assert_eq!(user["role"], "member");
    assert!(
        user["created_at"]
            .as_str()
            .is_some_and(|t| t.ends_with("+09:00")),
        "{user}"
    );
    assert_eq!(
        user.as_object().map(|o| o.len()),
        Some(5),
        "exactly id, email, username, role, created_at"
    );

    let shouting = json!({"email": format!("{}@EXAMPLE.com", name.to_uppercase()), "username": unique("x"), "password": "secret123", "password_confirm": "secret123"});
    app.post("/api/v1/auth/signup", &shouting, None)
        .await
        .assert_problem(409, "email_taken");
    let same_name = json!({"email": format!("{}@example.com", unique("y")), "username": name.to_uppercase(), "password": "secret123", "password_confirm": "secret123"});
    app.post("/api/v1/auth/signup", &same_name, None)
        .await
        .assert_problem(409, "username_taken");

    let login = app.login(&name, "secret123").await;
    assert_eq!(login.status, 200, "{:#}", login.body);
    assert_eq!(login.body["token_type"], "Bearer");
    assert_eq!(login.body["expires_in"], 900);
    assert_eq!(login.body["user"]["id"], user["id"]);
    let token = login.body["access_token"].as_str().expect("token");

    let me = app.get("/api/v1/users/me", Some(token)).await;
    assert_eq!((me.status, &me.body["id"]), (200, &user["id"]));
    let renamed = unique("renamed");
    let patched = app
        .patch(
            "/api/v1/users/me",
            &json!({"username": renamed}),
            Some(token),
        )
        .await;
    assert_eq!(
        (patched.status, &patched.body["username"]),
        (200, &json!(renamed))
    );

    app.login(&name, "wrong-password1")
        .await
        .assert_problem(401, "invalid_credentials");
    app.login(&unique("nobody"), "secret123")
        .await
        .assert_problem(401, "invalid_credentials");

    assert_eq!(
        app.delete("/api/v1/users/me", Some(token)).await.status,
        204
    );
    app.get("/api/v1/users/me", Some(token))
        .await
        .assert_problem(401, "token_revoked");
    app.login(&name, "secret123")
        .await
        .assert_problem(401, "invalid_credentials");
}
