//! User administration over HTTP: administrators list, change and deactivate users, members are
//! forbidden, role changes reach live tokens at once, and no route removes the last administrator.

use crate::helpers::{Backend, TestApp, on_both_backends, unique};
use serde_json::json;

on_both_backends!(
    administrators_manage_users_and_members_are_forbidden,
    role_changes_apply_to_live_tokens_at_once,
    administrators_cannot_delete_themselves_through_me,
    two_administrators_demoting_each_other_leave_one,
);

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

/// `DELETE /users/me` follows the admin routes' rule: an administrator's own access is removed
/// by another administrator only, whether or not others exist.
async fn administrators_cannot_delete_themselves_through_me(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (admin, _) = app.admin(&unique("root")).await;
    app.delete("/api/v1/users/me", Some(&admin))
        .await
        .assert_problem(409, "own_admin_access");
    let (_, _, second_id) = app.member(&unique("deputy")).await;
    let promote = json!({"role": "admin"});
    let target = format!("/api/v1/admin/users/{second_id}");
    assert_eq!(app.patch(&target, &promote, Some(&admin)).await.status, 200);
    app.delete("/api/v1/users/me", Some(&admin))
        .await
        .assert_problem(409, "own_admin_access");
    let me = app.get("/api/v1/users/me", Some(&admin)).await;
    assert_eq!((me.status, &me.body["role"]), (200, &json!("admin")));
}

/// Two administrators demote each other at the same moment: one wins, the other is refused
/// (`last_admin`, or `forbidden` if the winner's change reached them first), and one active
/// administrator remains.
async fn two_administrators_demoting_each_other_leave_one(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (first, first_id) = app.admin(&unique("root")).await;
    let name = unique("deputy");
    let (_, _, second_id) = app.member(&name).await;
    let promote = json!({"role": "admin"});
    let second_path = format!("/api/v1/admin/users/{second_id}");
    assert_eq!(
        app.patch(&second_path, &promote, Some(&first)).await.status,
        200
    );
    let login = app.login(&name, "secret123").await;
    let second = login.body["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let demote = json!({"role": "member"});
    let first_path = format!("/api/v1/admin/users/{first_id}");
    let (by_first, by_second) = tokio::join!(
        app.patch(&second_path, &demote, Some(&first)),
        app.patch(&first_path, &demote, Some(&second)),
    );
    let statuses = [by_first.status, by_second.status];
    let (winner, loser) = match statuses {
        [200, _] => (&first, &by_second),
        [_, 200] => (&second, &by_first),
        _ => panic!("one demotion must win: {statuses:?} {by_first:?} {by_second:?}"),
    };
    assert!(
        matches!(
            (loser.status, loser.body["code"].as_str()),
            (409, Some("last_admin")) | (403, Some("forbidden"))
        ),
        "{loser:?}"
    );
    let admins = app
        .get("/api/v1/admin/users?role=admin", Some(winner))
        .await;
    assert_eq!(admins.status, 200, "the winner is still an administrator");
    assert_eq!(admins.body["items"].as_array().map(Vec::len), Some(1));
}
