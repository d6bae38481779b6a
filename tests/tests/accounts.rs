//! The account lifecycle over HTTP, on both backends: signup, login, refresh rotation and reuse
//! detection, logout, profile changes, deactivation, administration, and token forgery.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly on the unexpected

mod support;

use serde_json::json;
use support::{Backend, JWT_SECRET, TestApp, unique};

on_both_backends!(
    signup_login_profile_and_deactivation,
    refresh_rotates_and_reuse_revokes_the_family,
    logout_revokes_the_access_token_and_the_family,
    password_change_ends_the_other_sessions,
    forged_expired_and_malformed_tokens_are_401,
    repeated_login_failures_are_throttled,
    administrators_manage_users_and_members_are_forbidden,
    role_changes_apply_to_live_tokens_at_once,
);

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

async fn refresh_rotates_and_reuse_revokes_the_family(backend: Backend) {
    let app = TestApp::spawn(backend).await;
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
    let (header, rest) = access.split_once('.').expect("jwt");
    let (payload, signature) = rest.split_once('.').expect("jwt");
    let tampered = format!("{header}.{payload}x.{signature}");
    let alg_none = format!("{}.{payload}.", base64_url(r#"{"alg":"none","typ":"JWT"}"#));
    for token in [
        expired.as_str(),
        &wrong_key,
        &tampered,
        &alg_none,
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

async fn administrators_manage_users_and_members_are_forbidden(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (admin, admin_id) = app.admin(&unique("root")).await;
    let tag = unique("page");
    let mut members = Vec::new();
    for index in 0..3 {
        members.push(app.member(&format!("{tag}{index}")).await);
    }
    let (member_access, _, member_id) = members[0].clone();
    app.get("/api/v1/admin/users", Some(&member_access))
        .await
        .assert_problem(403, "forbidden");
    app.get(
        &format!("/api/v1/admin/users/{member_id}"),
        Some(&member_access),
    )
    .await
    .assert_problem(403, "forbidden");
    let patch = json!({"role": "admin"});
    app.patch(
        &format!("/api/v1/admin/users/{member_id}"),
        &patch,
        Some(&member_access),
    )
    .await
    .assert_problem(403, "forbidden");

    let first = app
        .get(
            &format!("/api/v1/admin/users?q={tag}&limit=2"),
            Some(&admin),
        )
        .await;
    assert_eq!(first.status, 200, "{:#}", first.body);
    let items = first.body["items"].as_array().expect("items");
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["id"], members[2].2.as_str(), "newest first");
    let cursor = first.body["next_cursor"].as_str().expect("a next page");
    let second = app
        .get(
            &format!("/api/v1/admin/users?q={tag}&limit=2&cursor={cursor}"),
            Some(&admin),
        )
        .await;
    assert_eq!(second.body["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(second.body["next_cursor"], serde_json::Value::Null);
    let admins = app
        .get("/api/v1/admin/users?role=admin", Some(&admin))
        .await;
    assert_eq!(admins.body["items"].as_array().map(Vec::len), Some(1));

    let promoted = app
        .patch(
            &format!("/api/v1/admin/users/{member_id}"),
            &json!({"role": "tutor"}),
            Some(&admin),
        )
        .await;
    assert_eq!(
        (promoted.status, &promoted.body["role"]),
        (200, &json!("tutor"))
    );
    let fetched = app
        .get(&format!("/api/v1/admin/users/{member_id}"), Some(&admin))
        .await;
    assert_eq!(fetched.body["role"], "tutor");

    assert_eq!(
        app.delete(&format!("/api/v1/admin/users/{member_id}"), Some(&admin))
            .await
            .status,
        204
    );
    app.get("/api/v1/users/me", Some(&member_access))
        .await
        .assert_problem(401, "token_revoked");
    let fetched = app
        .get(&format!("/api/v1/admin/users/{member_id}"), Some(&admin))
        .await;
    assert_eq!(fetched.body["is_active"], false);

    let own = format!("/api/v1/admin/users/{admin_id}");
    app.patch(&own, &json!({"role": "member"}), Some(&admin))
        .await
        .assert_problem(409, "own_admin_access");
    app.delete(&own, Some(&admin))
        .await
        .assert_problem(409, "own_admin_access");
    let absent = format!("/api/v1/admin/users/{}", uuid::Uuid::now_v7());
    app.get(&absent, Some(&admin))
        .await
        .assert_problem(404, "not_found");
    app.get("/api/v1/admin/users/not-a-uuid", Some(&admin))
        .await
        .assert_problem(404, "not_found");
    app.get("/api/v1/admin/users?cursor=zzz", Some(&admin))
        .await
        .assert_problem(400, "validation_failed");
    app.get("/api/v1/admin/users?limit=0", Some(&admin))
        .await
        .assert_problem(400, "validation_failed");
    app.get("/api/v1/admin/users?role=boss", Some(&admin))
        .await
        .assert_problem(400, "invalid_query");
    app.patch(&absent, &json!({"role": "tutor"}), Some(&admin))
        .await
        .assert_problem(404, "not_found");
    app.patch(&own, &json!({}), Some(&admin))
        .await
        .assert_problem(400, "validation_failed");
}

/// An access token carries the role it was issued with; a promotion or demotion must still apply
/// to it at once, on the next request, with no new login.
async fn role_changes_apply_to_live_tokens_at_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (admin, _) = app.admin(&unique("root")).await;
    let name = unique("mia");
    let (member_access, _, member_id) = app.member(&name).await;
    let target = format!("/api/v1/admin/users/{member_id}");
    app.get("/api/v1/admin/users", Some(&member_access))
        .await
        .assert_problem(403, "forbidden");

    let promoted = app
        .patch(&target, &json!({"role": "admin"}), Some(&admin))
        .await;
    assert_eq!(promoted.status, 200, "{:#}", promoted.body);
    let listed = app.get("/api/v1/admin/users", Some(&member_access)).await;
    assert_eq!(listed.status, 200, "the promotion applies to the old token");

    let demoted = app
        .patch(&target, &json!({"role": "member"}), Some(&admin))
        .await;
    assert_eq!(demoted.status, 200, "{:#}", demoted.body);
    app.get("/api/v1/admin/users", Some(&member_access))
        .await
        .assert_problem(403, "forbidden");
    let me = app.get("/api/v1/users/me", Some(&member_access)).await;
    assert_eq!((me.status, &me.body["role"]), (200, &json!("member")));

    let login = app.login(&name, "secret123").await;
    assert_eq!(login.status, 200, "{:#}", login.body);
    let fresh = login.body["access_token"].as_str().expect("token");
    app.get("/api/v1/admin/users", Some(fresh))
        .await
        .assert_problem(403, "forbidden");
    let deactivated = app
        .patch(&target, &json!({"is_active": false}), Some(&admin))
        .await;
    assert_eq!(deactivated.status, 200, "{:#}", deactivated.body);
    app.get("/api/v1/users/me", Some(fresh))
        .await
        .assert_problem(401, "token_revoked");
}
