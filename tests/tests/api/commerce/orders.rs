//! Orders over HTTP: from the cart (which it empties) and direct, the one pending order a new
//! one replaces, the 50,000 cap on both paths, every refusal, the owner's list, detail and
//! current order, `Idempotency-Key`, and bursts of orders by one user.

use super::{course, field_code, test_item, tutor};
use crate::helpers::{Backend, TestApp, on_both_backends, unique};
use futures_util::future::join_all;
use serde_json::{Value, json};

on_both_backends!(
    an_order_from_the_cart_empties_it_and_a_new_one_cancels_it,
    the_list_is_the_owners_newest_first_in_pages,
    every_refusal_has_its_code_and_leaves_the_pending_order,
    a_key_places_an_order_once,
    parallel_orders_leave_exactly_one_pending,
);

const ORDERS: &str = "/api/v1/orders";
const CURRENT: &str = "/api/v1/orders/current";

fn order_path(id: &str) -> String {
    format!("{ORDERS}/{id}")
}

fn id_of(value: &Value) -> String {
    value["id"].as_str().expect("id").to_owned()
}

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(id_of)
        .collect()
}

/// An app with an admin, a tutor's id and a member.
async fn shop(backend: Backend) -> (TestApp, String, String, String) {
    let app = TestApp::spawn(backend).await;
    let (admin, _) = app.admin(&unique("root")).await;
    let (_, tutor_id) = tutor(&app, &admin).await;
    let (member, _, _) = app.member(&unique("ann")).await;
    (app, admin, tutor_id, member)
}

async fn an_order_from_the_cart_empties_it_and_a_new_one_cancels_it(backend: Backend) {
    let (app, admin, tutor_id, ann) = shop(backend).await;
    let c1 = course(&app, &admin, &tutor_id, "Hooks", 3_000).await;
    let c2 = course(&app, &admin, &tutor_id, "State", 4_000).await;
    let c3 = course(&app, &admin, &tutor_id, "Testing", 5_000).await;
    app.get(CURRENT, Some(&ann))
        .await
        .assert_problem(404, "not_found");
    for id in [&c1, &c2] {
        let added = app
            .post("/api/v1/cart/items", &json!({"course_id": id}), Some(&ann))
            .await;
        assert_eq!(added.status, 201, "{:#}", added.body);
    }

    let placed = app
        .post(ORDERS, &json!({"from_cart": true}), Some(&ann))
        .await;
    assert_eq!(placed.status, 201, "{:#}", placed.body);
    let first = id_of(&placed.body);
    assert_eq!(placed.header("location"), Some(order_path(&first).as_str()));
    assert_eq!(placed.body["status"], "pending");
    assert_eq!(placed.body["total"], 7_000);
    assert!(placed.body["created_at"].is_string(), "{:#}", placed.body);
    let items = placed.body["items"].as_array().expect("items");
    assert_eq!(items.len(), 2);
    assert_eq!(
        (
            &items[0]["course_id"],
            &items[0]["title"],
            &items[0]["price"]
        ),
        (&json!(c1), &json!("Hooks"), &json!(3_000))
    );
    assert_eq!(items[1]["course_id"], c2.as_str());
    assert_eq!(
        app.get("/api/v1/cart", Some(&ann)).await.body,
        json!({"items": [], "total": 0}),
        "ordering from the cart empties it"
    );
    let current = app.get(CURRENT, Some(&ann)).await;
    assert_eq!(current.status, 200, "{:#}", current.body);
    assert_eq!(current.body, placed.body);
    assert_eq!(
        app.get(&order_path(&first), Some(&ann)).await.body,
        placed.body
    );

    // The cart is empty now: nothing is placed and the pending order stays.
    app.post(ORDERS, &json!({"from_cart": true}), Some(&ann))
        .await
        .assert_problem(409, "cart_empty");
    assert_eq!(id_of(&app.get(CURRENT, Some(&ann)).await.body), first);

    // A price change after the order leaves the order's snapshot alone.
    let changed = app
        .patch(
            &format!("/api/v1/admin/courses/{c1}"),
            &json!({"price": 3_500}),
            Some(&admin),
        )
        .await;
    assert_eq!(changed.status, 200, "{:#}", changed.body);
    assert_eq!(
        app.get(&order_path(&first), Some(&ann)).await.body["total"],
        7_000
    );

    let direct = app
        .post(ORDERS, &json!({"items": [{"course_id": c3}]}), Some(&ann))
        .await;
    assert_eq!(direct.status, 201, "{:#}", direct.body);
    let second = id_of(&direct.body);
    assert_eq!(direct.body["total"], 5_000);
    let old = app.get(&order_path(&first), Some(&ann)).await;
    assert_eq!(old.body["status"], "cancelled", "{:#}", old.body);
    assert!(old.body["cancelled_at"].is_string(), "{:#}", old.body);
    assert_eq!(id_of(&app.get(CURRENT, Some(&ann)).await.body), second);
}

async fn the_list_is_the_owners_newest_first_in_pages(backend: Backend) {
    let (app, admin, tutor_id, ann) = shop(backend).await;
    let (bob, _, _) = app.member(&unique("bob")).await;
    let c1 = course(&app, &admin, &tutor_id, "Hooks", 3_000).await;
    let mut placed = Vec::new();
    for _ in 0..3 {
        let answer = app
            .post(ORDERS, &json!({"items": [{"course_id": c1}]}), Some(&ann))
            .await;
        assert_eq!(answer.status, 201, "{:#}", answer.body);
        placed.push(id_of(&answer.body));
    }
    let newest_first: Vec<String> = placed.iter().rev().cloned().collect();
    let all = app.get(ORDERS, Some(&ann)).await;
    assert_eq!(all.status, 200, "{:#}", all.body);
    assert_eq!(ids(&all.body), newest_first);
    assert_eq!(all.body["next_cursor"], Value::Null);

    let page = app.get(&format!("{ORDERS}?limit=2"), Some(&ann)).await;
    assert_eq!(ids(&page.body), newest_first[..2]);
    let cursor = page.body["next_cursor"].as_str().expect("a cursor");
    let rest = app
        .get(&format!("{ORDERS}?limit=2&cursor={cursor}"), Some(&ann))
        .await;
    assert_eq!(ids(&rest.body), newest_first[2..]);
    assert_eq!(rest.body["next_cursor"], Value::Null);

    let pending = app
        .get(&format!("{ORDERS}?status=pending"), Some(&ann))
        .await;
    assert_eq!(ids(&pending.body), newest_first[..1]);
    let cancelled = app
        .get(&format!("{ORDERS}?status=cancelled"), Some(&ann))
        .await;
    assert_eq!(ids(&cancelled.body), newest_first[1..]);
    app.get(&format!("{ORDERS}?status=completed"), Some(&ann))
        .await
        .assert_problem(400, "invalid_query");
    let refused = app.get(&format!("{ORDERS}?cursor=bogus"), Some(&ann)).await;
    assert_eq!(
        field_code(&refused),
        ("cursor".into(), "invalid_cursor".into())
    );
    let refused = app.get(&format!("{ORDERS}?limit=0"), Some(&ann)).await;
    assert_eq!(
        field_code(&refused),
        ("limit".into(), "invalid_limit".into())
    );

    // Another user sees none of them.
    assert_eq!(
        ids(&app.get(ORDERS, Some(&bob)).await.body),
        Vec::<String>::new()
    );
    app.get(&order_path(&placed[0]), Some(&bob))
        .await
        .assert_problem(404, "not_found");
    app.get(CURRENT, Some(&bob))
        .await
        .assert_problem(404, "not_found");
    let nothing = uuid::Uuid::now_v7().to_string();
    app.get(&order_path(&nothing), Some(&ann))
        .await
        .assert_problem(404, "not_found");
    app.get(ORDERS, None)
        .await
        .assert_problem(401, "missing_token");
}

async fn every_refusal_has_its_code_and_leaves_the_pending_order(backend: Backend) {
    let (app, admin, tutor_id, ann) = shop(backend).await;
    let big = course(&app, &admin, &tutor_id, "Big", 30_000).await;
    let rest = course(&app, &admin, &tutor_id, "Rest", 20_000).await;
    let over = course(&app, &admin, &tutor_id, "Over", 20_001).await;
    let exam = test_item(&app, &admin).await;
    let nothing = uuid::Uuid::now_v7().to_string();
    let pending = app
        .post(ORDERS, &json!({"items": [{"course_id": rest}]}), Some(&ann))
        .await;
    assert_eq!(pending.status, 201, "{:#}", pending.body);
    let pending = id_of(&pending.body);

    // The cap holds on the direct path too (SOURCES §5.9 bug 8), and on the cart's.
    let items = json!({"items": [{"course_id": big}, {"course_id": over}]});
    app.post(ORDERS, &items, Some(&ann))
        .await
        .assert_problem(409, "order_total_exceeded");
    for id in [&big, &over] {
        let added = app
            .post("/api/v1/cart/items", &json!({"course_id": id}), Some(&ann))
            .await;
        assert_eq!(added.status, 201, "{:#}", added.body);
    }
    app.post(ORDERS, &json!({"from_cart": true}), Some(&ann))
        .await
        .assert_problem(409, "order_total_exceeded");
    assert_eq!(
        app.get("/api/v1/cart", Some(&ann)).await.body["total"],
        50_001,
        "a refused order leaves the cart"
    );

    for (body, field, code) in [
        (json!({}), "from_cart", "cart_or_items"),
        (json!({"from_cart": false}), "from_cart", "cart_or_items"),
        (
            json!({"from_cart": true, "items": [{"course_id": big}]}),
            "items",
            "cart_or_items",
        ),
        (json!({"items": []}), "items", "items_empty"),
        (
            json!({"items": [{"course_id": big}, {"course_id": big}]}),
            "items",
            "duplicate_item",
        ),
        (
            json!({"items": [{"course_id": big}, {}]}),
            "items[1].course_id",
            "item_required",
        ),
        (
            json!({"items": [{"course_id": big, "curriculum_id": nothing}]}),
            "items[0].curriculum_id",
            "one_item_only",
        ),
        (
            json!({"items": [{"course_id": "big"}]}),
            "items[0].course_id",
            "invalid_id",
        ),
        (
            json!({"items": [{"course_id": "\u{7}"}]}),
            "items[0].course_id",
            "control_character",
        ),
    ] {
        let refused = app.post(ORDERS, &body, Some(&ann)).await;
        refused.assert_problem(400, "validation_failed");
        assert_eq!(field_code(&refused), (field.into(), code.into()), "{body}");
    }
    let too_many: Vec<Value> = (0..51)
        .map(|_| json!({"course_id": uuid::Uuid::now_v7().to_string()}))
        .collect();
    let refused = app
        .post(ORDERS, &json!({"items": too_many}), Some(&ann))
        .await;
    assert_eq!(
        field_code(&refused),
        ("items".into(), "too_many_items".into())
    );
    // Past the body's coarse bound too, the same code (not the validator's generic `length`).
    let far_too_many: Vec<Value> = (0..1_001)
        .map(|_| json!({"course_id": uuid::Uuid::now_v7().to_string()}))
        .collect();
    let refused = app
        .post(ORDERS, &json!({"items": far_too_many}), Some(&ann))
        .await;
    refused.assert_problem(400, "validation_failed");
    assert_eq!(
        field_code(&refused),
        ("items".into(), "too_many_items".into())
    );
    app.post(ORDERS, &json!({"from_cart": true, "note": 1}), Some(&ann))
        .await
        .assert_problem(400, "invalid_body");
    for missing in [
        json!({"items": [{"course_id": exam}]}),
        json!({"items": [{"course_id": big}, {"course_id": nothing}]}),
        json!({"items": [{"curriculum_id": nothing}]}),
    ] {
        app.post(ORDERS, &missing, Some(&ann))
            .await
            .assert_problem(404, "item_not_found");
    }

    let current = app.get(CURRENT, Some(&ann)).await;
    assert_eq!(id_of(&current.body), pending, "no refusal replaced it");
    assert_eq!(current.body["status"], "pending");
    assert_eq!(ids(&app.get(ORDERS, Some(&ann)).await.body), [pending]);

    // Exactly the cap is allowed.
    let at_cap = json!({"items": [{"course_id": big}, {"course_id": rest}]});
    let placed = app.post(ORDERS, &at_cap, Some(&ann)).await;
    assert_eq!(placed.status, 201, "{:#}", placed.body);
    assert_eq!(placed.body["total"], 50_000);
}

async fn a_key_places_an_order_once(backend: Backend) {
    let (app, admin, tutor_id, ann) = shop(backend).await;
    let c1 = course(&app, &admin, &tutor_id, "Hooks", 3_000).await;
    let c2 = course(&app, &admin, &tutor_id, "State", 4_000).await;
    let body = json!({"items": [{"course_id": c1}]});
    let first = app.post_with_key(ORDERS, &body, &ann, "order-1").await;
    assert_eq!(first.status, 201, "{:#}", first.body);
    assert_eq!(first.header("idempotent-replayed"), None);
    let again = app.post_with_key(ORDERS, &body, &ann, "order-1").await;
    assert_eq!(again.status, 201, "{:#}", again.body);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.body, first.body);
    let current = app.get(CURRENT, Some(&ann)).await;
    assert_eq!(
        current.body["status"], "pending",
        "the replay cancelled nothing"
    );
    assert_eq!(id_of(&current.body), id_of(&first.body));
    assert_eq!(ids(&app.get(ORDERS, Some(&ann)).await.body).len(), 1);

    let other = json!({"items": [{"course_id": c2}]});
    app.post_with_key(ORDERS, &other, &ann, "order-1")
        .await
        .assert_problem(422, "idempotency_key_reused");
    let refused = app.post_with_key(ORDERS, &body, &ann, "").await;
    assert_eq!(
        field_code(&refused),
        ("Idempotency-Key".into(), "invalid_idempotency_key".into())
    );
    let second = app.post_with_key(ORDERS, &other, &ann, "order-2").await;
    assert_eq!(second.status, 201, "{:#}", second.body);
    assert_ne!(id_of(&second.body), id_of(&first.body));
}

async fn parallel_orders_leave_exactly_one_pending(backend: Backend) {
    let (app, admin, tutor_id, ann) = shop(backend).await;
    let c1 = course(&app, &admin, &tutor_id, "Hooks", 3_000).await;

    // Direct orders: each is placed, cancelling the one before; one stays pending.
    let body = json!({"items": [{"course_id": c1}]});
    let answers = join_all((0..10).map(|_| app.post(ORDERS, &body, Some(&ann)))).await;
    for answer in &answers {
        assert_eq!(answer.status, 201, "{:#}", answer.body);
    }
    let pending = app
        .get(&format!("{ORDERS}?status=pending"), Some(&ann))
        .await;
    assert_eq!(ids(&pending.body).len(), 1, "{:#}", pending.body);
    let cancelled = app
        .get(&format!("{ORDERS}?status=cancelled&limit=100"), Some(&ann))
        .await;
    assert_eq!(ids(&cancelled.body).len(), 9);
    assert_eq!(
        id_of(&app.get(CURRENT, Some(&ann)).await.body),
        ids(&pending.body)[0]
    );

    // From the cart: the first empties it, every other one finds it empty.
    let added = app
        .post("/api/v1/cart/items", &json!({"course_id": c1}), Some(&ann))
        .await;
    assert_eq!(added.status, 201, "{:#}", added.body);
    let from_cart = json!({"from_cart": true});
    let answers = join_all((0..10).map(|_| app.post(ORDERS, &from_cart, Some(&ann)))).await;
    let placed: Vec<&_> = answers
        .iter()
        .filter(|answer| answer.status == 201)
        .collect();
    assert_eq!(placed.len(), 1, "{answers:#?}");
    for answer in answers.iter().filter(|answer| answer.status != 201) {
        answer.assert_problem(409, "cart_empty");
    }
    let pending = app
        .get(&format!("{ORDERS}?status=pending"), Some(&ann))
        .await;
    assert_eq!(ids(&pending.body), [id_of(&placed[0].body)]);
}
