//! Sessions over HTTP: refresh tokens rotate and a reused one revokes its family; logout and a
//! password change end sessions.

use crate::helpers::{Backend, TestApp, on_both_backends, unique};
use serde_json::json;

on_both_backends!(
    refresh_rotates_and_reuse_revokes_the_family,
    logout_revokes_the_access_token_and_the_family,
    password_change_ends_the_other_sessions,
);

async fn refresh_rotates_and_reuse_revokes_the_family(backend: Backend) {
    // No grace window: any second presentation of a used token is reuse.
    let app = TestApp::spawn_with(backend, |settings| {
        settings.auth.refresh_grace_seconds = 0;
    })
    .await;
    let (_, first_refresh, _) = app.member(&unique("bob")).await;
    let rotated = app
        .post(
            "/api/v1/auth/refresh",
            &json!({"refresh_token": first_refresh}),
            None,
        )
        .await;
    assert_eq!(rotated.status, 200, "{:#}", rotated.body);
    let second_refresh = rotated.body["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_owned();
    let second_access = rotated.body["access_token"]
        .as_str()
        .expect("access")
        .to_owned();
    assert_ne!(second_refresh, first_refresh);
    assert_eq!(
        app.get("/api/v1/users/me", Some(&second_access))
            .await
            .status,
        200
    );

    let replay = app
        .post(
            "/api/v1/auth/refresh",
            &json!({"refresh_token": first_refresh}),
            None,
        )
        .await;
    replay.assert_problem(401, "refresh_token_reused");
    let after = app
        .post(
            "/api/v1/auth/refresh",
            &json!({"refresh_token": second_refresh}),
            None,
        )
        .await;
    after.assert_problem(401, "invalid_refresh_token");
    app.get("/api/v1/users/me", Some(&second_access))
        .await
        .assert_problem(401, "token_revoked");
    let unknown = app
        .post(
            "/api/v1/auth/refresh",
            &json!({"refresh_token": "made-up"}),
            None,
        )
        .await;
    unknown.assert_problem(401, "invalid_refresh_token");
}

async fn logout_revokes_the_access_token_and_the_family(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (access, refresh, _) = app.member(&unique("cat")).await;
    let (other_access, other_refresh, _) = app.member(&unique("dog")).await;
    // Presenting someone else's refresh token at logout must not end their session.
    let logout = app
        .post(
            "/api/v1/auth/logout",
            &json!({"refresh_token": other_refresh}),
            Some(&access),
        )
        .await;
    assert_eq!(logout.status, 204);
    app.get("/api/v1/users/me", Some(&access))
        .await
        .assert_problem(401, "token_revoked");
    let own = app
        .post(
            "/api/v1/auth/refresh",
            &json!({"refresh_token": refresh}),
            None,
        )
        .await;
    own.assert_problem(401, "invalid_refresh_token");
    assert_eq!(
        app.get("/api/v1/users/me", Some(&other_access))
            .await
            .status,
        200
    );
    let theirs = app
        .post(
            "/api/v1/auth/refresh",
            &json!({"refresh_token": other_refresh}),
            None,
        )
        .await;
    assert_eq!(
        theirs.status, 200,
        "another user's session survives: {:#}",
        theirs.body
    );
    let again = app
        .post(
            "/api/v1/auth/logout",
            &json!({"refresh_token": refresh}),
            Some(&access),
        )
        .await;
    again.assert_problem(401, "token_revoked");
}

async fn password_change_ends_the_other_sessions(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let name = unique("eve");
    let (laptop, _, _) = app.member(&name).await;
    let phone = app.login(&name, "secret123").await;
    let phone_access = phone.body["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let phone_refresh = phone.body["refresh_token"]
        .as_str()
        .expect("token")
        .to_owned();

    let missing = app
        .patch(
            "/api/v1/users/me",
            &json!({"password": "newsecret1"}),
            Some(&laptop),
        )
        .await;
    missing.assert_problem(400, "validation_failed");
    assert_eq!(missing.body["errors"][0]["field"], "current_password");
    let weak = json!({"password": "short", "current_password": "secret123"});
    let weak = app.patch("/api/v1/users/me", &weak, Some(&laptop)).await;
    assert_eq!(weak.body["errors"][0]["code"], "password_too_short");

    let change = json!({"password": "newsecret1", "current_password": "secret123"});
    assert_eq!(
        app.patch("/api/v1/users/me", &change, Some(&laptop))
            .await
            .status,
        200
    );
    assert_eq!(
        app.get("/api/v1/users/me", Some(&laptop)).await.status,
        200,
        "this session stays"
    );
    app.get("/api/v1/users/me", Some(&phone_access))
        .await
        .assert_problem(401, "token_revoked");
    let refresh = app
        .post(
            "/api/v1/auth/refresh",
            &json!({"refresh_token": phone_refresh}),
            None,
        )
        .await;
    refresh.assert_problem(401, "invalid_refresh_token");
    app.login(&name, "secret123")
        .await
        .assert_problem(401, "invalid_credentials");
    assert_eq!(app.login(&name, "newsecret1").await.status, 200);
}
