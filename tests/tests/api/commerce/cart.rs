//! The cart over HTTP: adding a course or a curriculum (exactly one), the refusals, the list
//! with current titles, prices and total, removing a line (the owner's only), and a burst of
//! adds of one item.

use super::{course, curriculum_body, field_code, test_item, tutor};
use crate::helpers::{Backend, TestApp, on_both_backends, unique};
use futures_util::future::join_all;
use serde_json::json;

on_both_backends!(
    the_cart_adds_lists_and_removes_items,
    every_refusal_of_an_add_has_its_code_and_writes_nothing,
    parallel_adds_of_one_item_keep_one,
);

const CART: &str = "/api/v1/cart";
const ITEMS: &str = "/api/v1/cart/items";

async fn the_cart_adds_lists_and_removes_items(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (admin, _) = app.admin(&unique("root")).await;
    let (_, tutor_id) = tutor(&app, &admin).await;
    let (ann, _, _) = app.member(&unique("ann")).await;
    let (bob, _, _) = app.member(&unique("bob")).await;
    let c1 = course(&app, &admin, &tutor_id, "Hooks", 3_000).await;
    let c2 = course(&app, &admin, &tutor_id, "State", 4_000).await;
    let mut body = curriculum_body("React path", 6_000, &[&c1, &c2]);
    body["tutor_id"] = json!(tutor_id);
    let created = app
        .post("/api/v1/admin/curricula", &body, Some(&admin))
        .await;
    assert_eq!(created.status, 201, "{:#}", created.body);
    let path = created.body["id"].as_str().expect("id").to_owned();

    let empty = app.get(CART, Some(&ann)).await;
    assert_eq!(empty.status, 200, "{:#}", empty.body);
    assert_eq!(empty.body, json!({"items": [], "total": 0}));

    let added = app.post(ITEMS, &json!({"course_id": c1}), Some(&ann)).await;
    assert_eq!(added.status, 201, "{:#}", added.body);
    assert_eq!(added.body["course_id"], c1.as_str());
    assert!(
        added.body.get("curriculum_id").is_none(),
        "{:#}",
        added.body
    );
    assert_eq!(
        (&added.body["title"], &added.body["price"]),
        (&json!("Hooks"), &json!(3_000))
    );
    let first = added.body["id"].as_str().expect("id").to_owned();
    let added = app
        .post(ITEMS, &json!({"curriculum_id": path}), Some(&ann))
        .await;
    assert_eq!(added.status, 201, "{:#}", added.body);
    assert_eq!(added.body["curriculum_id"], path.as_str());
    assert!(added.body.get("course_id").is_none(), "{:#}", added.body);
    assert_eq!(
        (&added.body["title"], &added.body["price"]),
        (&json!("React path"), &json!(6_000))
    );
    let second = added.body["id"].as_str().expect("id").to_owned();

    let cart = app.get(CART, Some(&ann)).await;
    assert_eq!(cart.body["total"], 9_000, "{:#}", cart.body);
    let lines = cart.body["items"].as_array().expect("items");
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["id"], first.as_str(), "oldest first");
    assert_eq!(lines[1]["id"], second.as_str());
    assert_eq!(
        app.get(CART, Some(&bob)).await.body,
        json!({"items": [], "total": 0}),
        "a cart is its owner's"
    );

    // A price change shows in the cart: it is a shortlist, not an order.
    let changed = app
        .patch(
            &format!("/api/v1/admin/courses/{c1}"),
            &json!({"price": 3_500}),
            Some(&admin),
        )
        .await;
    assert_eq!(changed.status, 200, "{:#}", changed.body);
    assert_eq!(app.get(CART, Some(&ann)).await.body["total"], 9_500);

    let line = |id: &str| format!("{ITEMS}/{id}");
    app.delete(&line(&first), Some(&bob))
        .await
        .assert_problem(404, "not_found");
    assert_eq!(
        app.get(CART, Some(&ann)).await.body["items"][0]["id"],
        first.as_str()
    );
    let removed = app.delete(&line(&first), Some(&ann)).await;
    assert_eq!(removed.status, 204, "{:#}", removed.body);
    app.delete(&line(&first), Some(&ann))
        .await
        .assert_problem(404, "not_found");
    let cart = app.get(CART, Some(&ann)).await;
    assert_eq!(cart.body["total"], 6_000, "{:#}", cart.body);
    assert_eq!(cart.body["items"].as_array().map(Vec::len), Some(1));

    app.get(CART, None)
        .await
        .assert_problem(401, "missing_token");
    app.post(ITEMS, &json!({"course_id": c2}), None)
        .await
        .assert_problem(401, "missing_token");
}

async fn every_refusal_of_an_add_has_its_code_and_writes_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (admin, _) = app.admin(&unique("root")).await;
    let (_, tutor_id) = tutor(&app, &admin).await;
    let (ann, _, _) = app.member(&unique("ann")).await;
    let c1 = course(&app, &admin, &tutor_id, "Hooks", 3_000).await;
    let exam = test_item(&app, &admin).await;
    let nothing = uuid::Uuid::now_v7().to_string();

    let refused = app
        .post(
            ITEMS,
            &json!({"course_id": c1, "curriculum_id": nothing}),
            Some(&ann),
        )
        .await;
    refused.assert_problem(400, "validation_failed");
    assert_eq!(field_code(&refused).1, "one_item_only");
    let refused = app.post(ITEMS, &json!({}), Some(&ann)).await;
    refused.assert_problem(400, "validation_failed");
    assert_eq!(
        field_code(&refused),
        ("course_id".into(), "item_required".into())
    );
    let refused = app
        .post(
            ITEMS,
            &json!({"course_id": null, "curriculum_id": null}),
            Some(&ann),
        )
        .await;
    assert_eq!(field_code(&refused).1, "item_required");
    let refused = app
        .post(ITEMS, &json!({"course_id": "c1"}), Some(&ann))
        .await;
    refused.assert_problem(400, "validation_failed");
    assert_eq!(
        field_code(&refused),
        ("course_id".into(), "invalid_id".into())
    );
    // An over-long id is no UUID either (not the validator's generic `length`).
    for field in ["course_id", "curriculum_id"] {
        let mut body = json!({});
        body[field] = json!("a".repeat(65));
        let refused = app.post(ITEMS, &body, Some(&ann)).await;
        refused.assert_problem(400, "validation_failed");
        assert_eq!(field_code(&refused), (field.into(), "invalid_id".into()));
    }
    let refused = app
        .post(ITEMS, &json!({"course_id": c1, "quantity": 2}), Some(&ann))
        .await;
    refused.assert_problem(400, "invalid_body");
    let hidden = format!("{}\u{0}", &c1[..10]);
    let refused = app
        .post(ITEMS, &json!({"course_id": hidden}), Some(&ann))
        .await;
    assert_eq!(
        field_code(&refused),
        ("course_id".into(), "control_character".into())
    );
    for missing in [
        json!({"course_id": exam}),
        json!({"course_id": nothing}),
        json!({"curriculum_id": nothing}),
        json!({"curriculum_id": c1}),
    ] {
        app.post(ITEMS, &missing, Some(&ann))
            .await
            .assert_problem(404, "item_not_found");
    }
    assert_eq!(
        app.get(CART, Some(&ann)).await.body,
        json!({"items": [], "total": 0}),
        "no refusal wrote anything"
    );

    let added = app.post(ITEMS, &json!({"course_id": c1}), Some(&ann)).await;
    assert_eq!(added.status, 201, "{:#}", added.body);
    app.post(ITEMS, &json!({"course_id": c1}), Some(&ann))
        .await
        .assert_problem(409, "already_in_cart");
    let deleted = app
        .delete(&format!("/api/v1/admin/courses/{c1}"), Some(&admin))
        .await;
    assert!(deleted.status < 300, "{:#}", deleted.body);
    assert_eq!(
        app.get(CART, Some(&ann)).await.body,
        json!({"items": [], "total": 0}),
        "a deleted course leaves the cart's list"
    );

    let mut courses = Vec::new();
    for index in 0..50 {
        courses.push(course(&app, &admin, &tutor_id, &format!("C{index}"), 100).await);
    }
    let (full, _, _) = app.member(&unique("full")).await;
    for id in &courses {
        let added = app
            .post(ITEMS, &json!({"course_id": id}), Some(&full))
            .await;
        assert_eq!(added.status, 201, "{:#}", added.body);
    }
    let extra = course(&app, &admin, &tutor_id, "One more", 100).await;
    app.post(ITEMS, &json!({"course_id": extra}), Some(&full))
        .await
        .assert_problem(409, "cart_full");
    assert_eq!(
        app.get(CART, Some(&full)).await.body["items"]
            .as_array()
            .map(Vec::len),
        Some(50)
    );
}

async fn parallel_adds_of_one_item_keep_one(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (admin, _) = app.admin(&unique("root")).await;
    let (_, tutor_id) = tutor(&app, &admin).await;
    let (ann, _, _) = app.member(&unique("ann")).await;
    let c1 = course(&app, &admin, &tutor_id, "Hooks", 3_000).await;
    let body = json!({"course_id": c1});
    let answers = join_all((0..10).map(|_| app.post(ITEMS, &body, Some(&ann)))).await;
    let created = answers.iter().filter(|answer| answer.status == 201).count();
    assert_eq!(created, 1, "{answers:#?}");
    for answer in answers.iter().filter(|answer| answer.status != 201) {
        answer.assert_problem(409, "already_in_cart");
    }
    let cart = app.get(CART, Some(&ann)).await;
    assert_eq!(cart.body["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(cart.body["total"], 3_000);
}
