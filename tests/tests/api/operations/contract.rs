//! Who the caller is decides before what they sent: a request that is not authenticated hears
//! 401 and a member on an admin route hears 403, whatever its path, query or body hold, and the
//! same on both stores (the inputs are read after the bearer check, whose shared-state round trip
//! takes longer on Redis than in memory). The full check that every answer matches the OpenAPI
//! document is `scripts/schemathesis`, run by `./scripts/test`.

use crate::helpers::{Backend, TestApp, on_both_backends, unique};
use serde_json::json;

on_both_backends!(
    the_role_is_checked_before_the_input_of_admin_routes,
    authentication_is_checked_before_the_input,
);

async fn the_role_is_checked_before_the_input_of_admin_routes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (member, _, _) = app.member(&unique("mel")).await;
    let token = Some(member.as_str());
    for path in [
        "/api/v1/admin/users?limit=0",
        "/api/v1/admin/users?q=%00",
        "/api/v1/admin/users?shoe_size=44",
        "/api/v1/admin/users/not-a-uuid",
    ] {
        app.get(path, token).await.assert_problem(403, "forbidden");
    }
    let bad_role = json!({"role": "emperor"});
    app.patch("/api/v1/admin/users/not-a-uuid", &bad_role, token)
        .await
        .assert_problem(403, "forbidden");
    app.delete("/api/v1/admin/users/not-a-uuid", token)
        .await
        .assert_problem(403, "forbidden");
    app.post(
        "/api/v1/exam-reservations/not-a-uuid/confirm",
        &json!({}),
        token,
    )
    .await
    .assert_problem(403, "forbidden");
}

async fn authentication_is_checked_before_the_input(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (access, refresh, _) = app.member(&unique("ned")).await;
    let logout = json!({"refresh_token": refresh});
    let answer = app
        .post("/api/v1/auth/logout", &logout, Some(&access))
        .await;
    assert_eq!(answer.status, 204, "{:#}", answer.body);
    let revoked = Some(access.as_str());
    for path in [
        "/api/v1/exam-reservations?limit=0",
        "/api/v1/exam-slots?date=never",
        "/api/v1/exam-reservations/not-a-uuid",
        "/api/v1/admin/users?limit=0",
    ] {
        app.get(path, revoked)
            .await
            .assert_problem(401, "token_revoked");
        app.get(path, None)
            .await
            .assert_problem(401, "missing_token");
    }
    let bad_body = json!({"starts_at": 5});
    app.post("/api/v1/exam-reservations", &bad_body, revoked)
        .await
        .assert_problem(401, "token_revoked");
    app.patch("/api/v1/exam-reservations/not-a-uuid", &bad_body, revoked)
        .await
        .assert_problem(401, "token_revoked");
}
