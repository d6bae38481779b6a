//! Billing addresses over HTTP: every endpoint; the first address, or one marked default, is
//! the only default; the default moves with an edit and never away from it; deleting the
//! default promotes the newest remaining address; every refusal (400 field errors, unknown
//! fields, 404 for another user's, 409 `default_required` and `too_many_addresses`); keyset
//! pages; and a burst of parallel default creates.

use super::field_code;
use crate::helpers::{Answer, Backend, TestApp, on_both_backends, unique};
use serde_json::{Value, json};

on_both_backends!(
    addresses_are_created_read_listed_edited_and_deleted,
    the_default_moves_and_a_user_with_addresses_always_has_one,
    every_rule_is_refused_with_its_code_and_nothing_is_written,
    another_users_address_is_not_found,
    a_user_keeps_at_most_twenty_addresses,
    the_list_pages_newest_first,
    parallel_default_creates_leave_exactly_one_default,
);

const PATH: &str = "/api/v1/billing-addresses";

fn path(id: &str) -> String {
    format!("{PATH}/{id}")
}

fn address(main: &str) -> Value {
    json!({"country": "대한민국", "main_address": main, "detail_address": "12층",
        "postal_code": "06236"})
}

/// Creates an address for `token`; returns the answer's body.
async fn create(app: &TestApp, token: &str, body: &Value) -> Value {
    let answer = app.post(PATH, body, Some(token)).await;
    assert_eq!(answer.status, 201, "{:#}", answer.body);
    answer.body
}

fn id(body: &Value) -> String {
    body["id"].as_str().expect("id").to_owned()
}

/// The caller's addresses, newest first (one page of 100).
async fn listed(app: &TestApp, token: &str) -> Vec<Value> {
    let answer = app.get(&format!("{PATH}?limit=100"), Some(token)).await;
    assert_eq!(answer.status, 200, "{:#}", answer.body);
    assert_eq!(answer.body["next_cursor"], Value::Null);
    answer.body["items"].as_array().expect("items").clone()
}

/// The ids of the caller's defaults.
async fn defaults(app: &TestApp, token: &str) -> Vec<String> {
    listed(app, token)
        .await
        .iter()
        .filter(|item| item["is_default"] == true)
        .map(id)
        .collect()
}

fn codes(answer: &Answer) -> Vec<(String, String)> {
    answer.body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|error| {
            (
                error["field"].as_str().unwrap_or_default().to_owned(),
                error["code"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

async fn addresses_are_created_read_listed_edited_and_deleted(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (token, _, _) = app.member(&unique("bill")).await;
    app.get(PATH, None)
        .await
        .assert_problem(401, "missing_token");
    assert!(listed(&app, &token).await.is_empty());

    let answer = app
        .post(
            PATH,
            &json!({"country": " 대한민국 ", "main_address": "서울특별시 강남구 테헤란로 152",
                "postal_code": "06236"}),
            Some(&token),
        )
        .await;
    assert_eq!(answer.status, 201, "{:#}", answer.body);
    let first = answer.body.clone();
    let first_id = id(&first);
    assert_eq!(answer.header("location"), Some(path(&first_id).as_str()));
    assert_eq!(first["country"], "대한민국", "trimmed");
    assert_eq!(first["detail_address"], "", "absent: empty");
    assert_eq!(first["postal_code"], "06236");
    assert_eq!(
        first["is_default"], true,
        "the first address is the default"
    );
    assert!(
        first["created_at"]
            .as_str()
            .is_some_and(|at| at.ends_with("+09:00")),
        "{first:#}"
    );

    let read = app.get(&path(&first_id), Some(&token)).await;
    assert_eq!(read.status, 200, "{:#}", read.body);
    assert_eq!(read.body, first);

    let second = create(&app, &token, &address("Sejong-daero 110")).await;
    assert_eq!(second["is_default"], false);
    let items = listed(&app, &token).await;
    assert_eq!(
        items.iter().map(id).collect::<Vec<_>>(),
        [id(&second), first_id.clone()],
        "newest first"
    );

    let edited = app
        .patch(
            &path(&first_id),
            &json!({"detail_address": "", "postal_code": "SW1A 1AA"}),
            Some(&token),
        )
        .await;
    assert_eq!(edited.status, 200, "{:#}", edited.body);
    assert_eq!(edited.body["detail_address"], "");
    assert_eq!(edited.body["postal_code"], "SW1A 1AA");
    assert_eq!(
        edited.body["main_address"], first["main_address"],
        "unsent fields stay"
    );
    assert_eq!(edited.body["is_default"], true);
    // An empty edit changes nothing of the address.
    let same = app.patch(&path(&first_id), &json!({}), Some(&token)).await;
    assert_eq!(same.status, 200, "{:#}", same.body);
    assert_eq!(same.body["postal_code"], "SW1A 1AA");

    let deleted = app.delete(&path(&id(&second)), Some(&token)).await;
    assert_eq!(deleted.status, 204, "{:#}", deleted.body);
    app.get(&path(&id(&second)), Some(&token))
        .await
        .assert_problem(404, "not_found");
    app.delete(&path(&id(&second)), Some(&token))
        .await
        .assert_problem(404, "not_found");
    assert_eq!(defaults(&app, &token).await, [first_id]);
}

async fn the_default_moves_and_a_user_with_addresses_always_has_one(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (token, _, _) = app.member(&unique("bill")).await;
    let a = id(&create(&app, &token, &address("A")).await);
    let b = id(&create(&app, &token, &address("B")).await);
    let mut marked = address("C");
    marked["is_default"] = json!(true);
    let c = create(&app, &token, &marked).await;
    assert_eq!(c["is_default"], true);
    let c = id(&c);
    assert_eq!(defaults(&app, &token).await, [c.as_str()], "C replaced A");

    // An edit moves the default to the address it edits.
    let moved = app
        .patch(&path(&a), &json!({"is_default": true}), Some(&token))
        .await;
    assert_eq!(moved.status, 200, "{:#}", moved.body);
    assert_eq!(moved.body["is_default"], true);
    assert_eq!(defaults(&app, &token).await, [a.as_str()]);

    // Never away from it: nothing of the refused edit is written.
    app.patch(
        &path(&a),
        &json!({"is_default": false, "main_address": "Changed"}),
        Some(&token),
    )
    .await
    .assert_problem(409, "default_required");
    let kept = app.get(&path(&a), Some(&token)).await;
    assert_eq!(kept.body["main_address"], "A");
    assert_eq!(kept.body["is_default"], true);
    // `false` on an address that is not the default is no change.
    let plain = app
        .patch(&path(&b), &json!({"is_default": false}), Some(&token))
        .await;
    assert_eq!(plain.status, 200, "{:#}", plain.body);
    assert_eq!(defaults(&app, &token).await, [a.as_str()]);

    // Deleting the default promotes the newest remaining address (C, not B).
    let deleted = app.delete(&path(&a), Some(&token)).await;
    assert_eq!(deleted.status, 204);
    assert_eq!(defaults(&app, &token).await, [c.as_str()]);
    let deleted = app.delete(&path(&c), Some(&token)).await;
    assert_eq!(deleted.status, 204);
    assert_eq!(defaults(&app, &token).await, [b.as_str()]);
    // The only address is the default and stays it.
    app.patch(&path(&b), &json!({"is_default": false}), Some(&token))
        .await
        .assert_problem(409, "default_required");
    let deleted = app.delete(&path(&b), Some(&token)).await;
    assert_eq!(deleted.status, 204);
    assert!(listed(&app, &token).await.is_empty());
}

async fn every_rule_is_refused_with_its_code_and_nothing_is_written(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (token, _, _) = app.member(&unique("bill")).await;
    let refused = app
        .post(
            PATH,
            &json!({"country": "a".repeat(51), "main_address": "  ",
                "detail_address": "b".repeat(201), "postal_code": "06236;"}),
            Some(&token),
        )
        .await;
    refused.assert_problem(400, "validation_failed");
    assert_eq!(
        codes(&refused),
        [
            ("country".to_owned(), "country_too_long".to_owned()),
            ("main_address".to_owned(), "main_address_empty".to_owned()),
            (
                "detail_address".to_owned(),
                "detail_address_too_long".to_owned()
            ),
            ("postal_code".to_owned(), "postal_code_invalid".to_owned()),
        ]
    );
    for (body, field, code) in [
        (
            json!({"country": "", "main_address": "A", "postal_code": "1"}),
            "country",
            "country_empty",
        ),
        (
            json!({"country": "KR", "main_address": "a".repeat(201), "postal_code": "1"}),
            "main_address",
            "main_address_too_long",
        ),
        (
            json!({"country": "KR", "main_address": "A", "postal_code": "1".repeat(21)}),
            "postal_code",
            "postal_code_too_long",
        ),
        (
            json!({"country": "KR", "main_address": "A", "postal_code": " "}),
            "postal_code",
            "postal_code_empty",
        ),
        (
            json!({"country": "KR", "main_address": "A\u{200b}", "postal_code": "1"}),
            "main_address",
            "invisible_character",
        ),
        (
            json!({"country": "K\u{0}R", "main_address": "A", "postal_code": "1"}),
            "country",
            "control_character",
        ),
        (
            json!({"country": "KR", "main_address": "A", "postal_code": "-"}),
            "postal_code",
            "postal_code_invalid",
        ),
        (
            json!({"country": "KR", "main_address": "A", "postal_code": " - - "}),
            "postal_code",
            "postal_code_invalid",
        ),
    ] {
        let refused = app.post(PATH, &body, Some(&token)).await;
        refused.assert_problem(400, "validation_failed");
        assert_eq!(field_code(&refused), (field.into(), code.into()), "{body}");
    }
    // A control character is one broken rule among the others: every field is listed.
    let refused = app
        .post(
            PATH,
            &json!({"country": "K\u{0}R", "main_address": "", "postal_code": "!",
                "detail_address": "\u{200b}"}),
            Some(&token),
        )
        .await;
    refused.assert_problem(400, "validation_failed");
    assert_eq!(
        codes(&refused),
        [
            ("country".to_owned(), "control_character".to_owned()),
            ("main_address".to_owned(), "main_address_empty".to_owned()),
            (
                "detail_address".to_owned(),
                "invisible_character".to_owned()
            ),
            ("postal_code".to_owned(), "postal_code_invalid".to_owned()),
        ]
    );
    // Bodies that do not fit the shape: a field missing, one unknown.
    for (body, field, code) in [
        (
            json!({"country": "KR", "main_address": "A"}),
            "postal_code",
            "required",
        ),
        (
            json!({"country": "KR", "main_address": "A", "postal_code": "1", "city": "Seoul"}),
            "city",
            "unknown_field",
        ),
    ] {
        let refused = app.post(PATH, &body, Some(&token)).await;
        refused.assert_problem(400, "invalid_body");
        assert_eq!(field_code(&refused), (field.into(), code.into()), "{body}");
    }
    let wrong_type = app
        .post(
            PATH,
            &json!({"country": "KR", "main_address": "A", "postal_code": "1", "is_default": "yes"}),
            Some(&token),
        )
        .await;
    assert_eq!(wrong_type.status, 400, "{:#}", wrong_type.body);
    assert!(listed(&app, &token).await.is_empty(), "nothing written");

    // The edit's rules are the same, every broken field listed, nothing written.
    let kept = id(&create(&app, &token, &address("Kept")).await);
    let refused = app
        .patch(
            &path(&kept),
            &json!({"country": " ", "main_address": "x".repeat(201),
                "postal_code": "1\u{202e}"}),
            Some(&token),
        )
        .await;
    refused.assert_problem(400, "validation_failed");
    assert_eq!(
        codes(&refused),
        [
            ("country".to_owned(), "country_empty".to_owned()),
            (
                "main_address".to_owned(),
                "main_address_too_long".to_owned()
            ),
            ("postal_code".to_owned(), "invisible_character".to_owned()),
        ]
    );
    let refused = app
        .patch(&path(&kept), &json!({"zip": "1"}), Some(&token))
        .await;
    refused.assert_problem(400, "invalid_body");
    assert_eq!(
        field_code(&refused),
        ("zip".to_owned(), "unknown_field".to_owned())
    );
    let refused = app
        .patch(
            &path(&kept),
            &json!({"country": "K\u{7}R", "postal_code": "-"}),
            Some(&token),
        )
        .await;
    refused.assert_problem(400, "validation_failed");
    assert_eq!(
        codes(&refused),
        [
            ("country".to_owned(), "control_character".to_owned()),
            ("postal_code".to_owned(), "postal_code_invalid".to_owned()),
        ]
    );
    // `null` is no way to leave a field out: refused, every such field listed.
    let refused = app
        .patch(
            &path(&kept),
            &json!({"country": null, "main_address": null, "postal_code": null,
                "is_default": null}),
            Some(&token),
        )
        .await;
    refused.assert_problem(400, "validation_failed");
    assert_eq!(
        codes(&refused),
        [
            ("country".to_owned(), "invalid_value".to_owned()),
            ("is_default".to_owned(), "invalid_value".to_owned()),
            ("main_address".to_owned(), "invalid_value".to_owned()),
            ("postal_code".to_owned(), "invalid_value".to_owned()),
        ]
    );
    let read = app.get(&path(&kept), Some(&token)).await;
    assert_eq!(read.body["main_address"], "Kept");
    assert_eq!(read.body["postal_code"], "06236");
    assert_eq!(read.body["detail_address"], "12층");
    // On `detail_address`, `null` empties it, as `""` does.
    let cleared = app
        .patch(&path(&kept), &json!({"detail_address": null}), Some(&token))
        .await;
    assert_eq!(cleared.status, 200, "{:#}", cleared.body);
    assert_eq!(cleared.body["detail_address"], "");
    assert_eq!(cleared.body["main_address"], "Kept");
    // A malformed or unknown id names nothing (404); a malformed cursor or limit is a 400.
    app.get(&path("not-a-uuid"), Some(&token))
        .await
        .assert_problem(404, "not_found");
    app.get(&format!("{PATH}?cursor=garbage"), Some(&token))
        .await
        .assert_problem(400, "validation_failed");
    app.get(&format!("{PATH}?limit=0"), Some(&token))
        .await
        .assert_problem(400, "validation_failed");
    app.patch(
        &path(&uuid::Uuid::now_v7().to_string()),
        &json!({"country": "KR"}),
        Some(&token),
    )
    .await
    .assert_problem(404, "not_found");
}

async fn another_users_address_is_not_found(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (owner, _, _) = app.member(&unique("own")).await;
    let (other, _, _) = app.member(&unique("oth")).await;
    let (admin, _) = app.admin(&unique("root")).await;
    let mine = id(&create(&app, &owner, &address("Mine")).await);
    for intruder in [&other, &admin] {
        app.get(&path(&mine), Some(intruder))
            .await
            .assert_problem(404, "not_found");
        app.patch(&path(&mine), &json!({"is_default": true}), Some(intruder))
            .await
            .assert_problem(404, "not_found");
        app.delete(&path(&mine), Some(intruder))
            .await
            .assert_problem(404, "not_found");
        assert!(listed(&app, intruder).await.is_empty());
    }
    // The intruder's own first address is their default; the owner's is untouched.
    let theirs = create(&app, &other, &address("Theirs")).await;
    assert_eq!(theirs["is_default"], true);
    assert_eq!(defaults(&app, &owner).await, [mine]);
}

async fn a_user_keeps_at_most_twenty_addresses(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (token, _, _) = app.member(&unique("bill")).await;
    for n in 0..20 {
        create(&app, &token, &address(&format!("No {n}"))).await;
    }
    app.post(PATH, &address("One too many"), Some(&token))
        .await
        .assert_problem(409, "too_many_addresses");
    let items = listed(&app, &token).await;
    assert_eq!(items.len(), 20);
    // Deleting one makes room again.
    let deleted = app.delete(&path(&id(&items[5])), Some(&token)).await;
    assert_eq!(deleted.status, 204);
    create(&app, &token, &address("Room again")).await;
    // Another user's count is their own.
    let (other, _, _) = app.member(&unique("oth")).await;
    create(&app, &other, &address("Theirs")).await;
}

async fn the_list_pages_newest_first(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (token, _, _) = app.member(&unique("bill")).await;
    let mut created = Vec::new();
    for n in 0..5 {
        created.push(id(&create(&app, &token, &address(&format!("No {n}"))).await));
    }
    created.reverse();
    let mut seen = Vec::new();
    let mut next: Option<String> = None;
    let mut first_cursor = None;
    for _ in 0..5 {
        let url = match &next {
            Some(cursor) => format!("{PATH}?limit=2&cursor={cursor}"),
            None => format!("{PATH}?limit=2"),
        };
        let page = app.get(&url, Some(&token)).await;
        assert_eq!(page.status, 200, "{:#}", page.body);
        let items = page.body["items"].as_array().expect("items");
        assert!(items.len() <= 2);
        seen.extend(items.iter().map(id));
        next = page.body["next_cursor"].as_str().map(str::to_owned);
        first_cursor = first_cursor.or_else(|| next.clone());
        if next.is_none() {
            break;
        }
    }
    assert_eq!(seen, created);
    // A cursor of this list is no cursor of another.
    let cursor = first_cursor.expect("a second page");
    app.get(&format!("/api/v1/curricula?cursor={cursor}"), Some(&token))
        .await
        .assert_problem(400, "validation_failed");
}

async fn parallel_default_creates_leave_exactly_one_default(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (token, _, _) = app.member(&unique("bill")).await;
    let bodies: Vec<Value> = (0..10)
        .map(|n| {
            let mut body = address(&format!("Burst {n}"));
            body["is_default"] = json!(true);
            body
        })
        .collect();
    let answers = futures_util::future::join_all(
        bodies.iter().map(|body| app.post(PATH, body, Some(&token))),
    )
    .await;
    for answer in &answers {
        assert_eq!(answer.status, 201, "{:#}", answer.body);
    }
    assert_eq!(listed(&app, &token).await.len(), 10);
    let left = defaults(&app, &token).await;
    assert_eq!(left.len(), 1, "{left:?}");
    // And a burst of moves of the default: still exactly one.
    let items = listed(&app, &token).await;
    let (app, token) = (&app, token.as_str());
    let moves = items.iter().map(|item| {
        let url = path(&id(item));
        async move {
            app.patch(&url, &json!({"is_default": true}), Some(token))
                .await
        }
    });
    for answer in futures_util::future::join_all(moves).await {
        assert_eq!(answer.status, 200, "{:#}", answer.body);
    }
    assert_eq!(defaults(app, token).await.len(), 1);
}
