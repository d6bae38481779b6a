//! Course access over HTTP: `/me/access` lists the courses of the caller's paid orders (a
//! curriculum's each) for 730 days, and an owned item is refused by the cart and by an order. An
//! order is paid here through the stores' test-only `CommerceFixtures::pay_order`, the write the
//! checkout's payment transaction makes; the checkout's own routes are tested with it.

use super::{course, curriculum_body, tutor};
use crate::helpers::{Backend, TestApp, on_both_backends, unique};
use chrono::{DateTime, Duration, Utc};
use reserva_adapter_postgres::{PostgresSettings, PostgresStore};
use reserva_adapter_sqlite::{SqliteSettings, SqliteStore, parse_sqlite_url};
use reserva_conformance::commerce::fixtures::CommerceFixtures;
use reserva_domain::commerce::OrderId;
use serde_json::{Value, json};

on_both_backends!(
    access_lists_the_courses_of_paid_orders_only_the_callers,
    owned_items_are_refused_by_the_cart_and_by_orders,
);

const ACCESS: &str = "/api/v1/me/access";

/// Marks `order` paid now and grants its access, in the server's own store.
async fn pay(app: &TestApp, order: &str) {
    let id = OrderId::from_uuid(uuid::Uuid::parse_str(order).expect("an order id"));
    let url = app.settings.database.url.expose();
    let now = Utc::now();
    if url.starts_with("postgres") {
        let store = PostgresStore::connect(&PostgresSettings {
            url: url.to_owned(),
            max_connections: 1,
            list_concurrency: 1,
            acquire_timeout: std::time::Duration::from_secs(10),
            statement_timeout: std::time::Duration::from_secs(10),
        })
        .await
        .expect("the test server's database");
        store.pay_order(id, now).await;
    } else {
        let store = SqliteStore::connect(&SqliteSettings {
            path: parse_sqlite_url(url).expect("a SQLite URL"),
            max_connections: 1,
            busy_timeout: std::time::Duration::from_secs(10),
        })
        .await
        .expect("the test server's database");
        store.pay_order(id, now).await;
    }
}

/// Places a direct order of `items` (ids as the body names them) and returns its id.
async fn order(app: &TestApp, token: &str, items: Value) -> String {
    let placed = app
        .post("/api/v1/orders", &json!({ "items": items }), Some(token))
        .await;
    assert_eq!(placed.status, 201, "{:#}", placed.body);
    placed.body["id"].as_str().expect("id").to_owned()
}

fn course_ids(access: &Value) -> Vec<String> {
    let mut ids: Vec<String> = access["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|item| item["course_id"].as_str().expect("course_id").to_owned())
        .collect();
    ids.sort();
    ids
}

async fn access_lists_the_courses_of_paid_orders_only_the_callers(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (admin, _) = app.admin(&unique("root")).await;
    let (_, tutor_id) = tutor(&app, &admin).await;
    let (ann, _, _) = app.member(&unique("ann")).await;
    let (bob, _, _) = app.member(&unique("bob")).await;
    let c1 = course(&app, &admin, &tutor_id, "Hooks", 3_000).await;
    let c2 = course(&app, &admin, &tutor_id, "State", 4_000).await;
    let c3 = course(&app, &admin, &tutor_id, "Testing", 5_000).await;
    let mut body = curriculum_body("React path", 6_000, &[&c2, &c3]);
    body["tutor_id"] = json!(tutor_id);
    let path = app
        .post("/api/v1/admin/curricula", &body, Some(&admin))
        .await;
    assert_eq!(path.status, 201, "{:#}", path.body);
    let path = path.body["id"].as_str().expect("id").to_owned();

    let empty = app.get(ACCESS, Some(&ann)).await;
    assert_eq!(empty.status, 200, "{:#}", empty.body);
    assert_eq!(empty.body, json!({"items": []}));

    // A pending order opens nothing.
    let pending = order(
        &app,
        &ann,
        json!([{"course_id": c1}, {"curriculum_id": path}]),
    )
    .await;
    assert_eq!(app.get(ACCESS, Some(&ann)).await.body, json!({"items": []}));
    pay(&app, &pending).await;
    let paid = app
        .get(&format!("/api/v1/orders/{pending}"), Some(&ann))
        .await;
    assert_eq!(paid.body["status"], "paid", "{:#}", paid.body);

    let access = app.get(ACCESS, Some(&ann)).await;
    assert_eq!(access.status, 200, "{:#}", access.body);
    let mut expected = vec![c1.clone(), c2.clone(), c3.clone()];
    expected.sort();
    assert_eq!(
        course_ids(&access.body),
        expected,
        "the curriculum's courses, each"
    );
    for item in access.body["items"].as_array().expect("items") {
        assert_eq!(item["order_id"], pending.as_str());
        let title = item["title"].as_str().expect("title");
        assert!(["Hooks", "State", "Testing"].contains(&title), "{item:#}");
        let expires_at = item["expires_at"].as_str().expect("expires_at");
        let expires_at = DateTime::parse_from_rfc3339(expires_at)
            .expect("RFC 3339")
            .with_timezone(&Utc);
        let until = expires_at - Utc::now();
        assert!(
            until <= Duration::days(730) && until > Duration::days(730) - Duration::minutes(5),
            "{item:#}"
        );
    }
    assert_eq!(
        app.get(ACCESS, Some(&bob)).await.body,
        json!({"items": []}),
        "access is the buyer's own"
    );
    app.get(ACCESS, None)
        .await
        .assert_problem(401, "missing_token");
}

async fn owned_items_are_refused_by_the_cart_and_by_orders(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (admin, _) = app.admin(&unique("root")).await;
    let (_, tutor_id) = tutor(&app, &admin).await;
    let (ann, _, _) = app.member(&unique("ann")).await;
    let c1 = course(&app, &admin, &tutor_id, "Hooks", 3_000).await;
    let c2 = course(&app, &admin, &tutor_id, "State", 4_000).await;
    let mut body = curriculum_body("React path", 6_000, &[&c1, &c2]);
    body["tutor_id"] = json!(tutor_id);
    let path = app
        .post("/api/v1/admin/curricula", &body, Some(&admin))
        .await;
    assert_eq!(path.status, 201, "{:#}", path.body);
    let path = path.body["id"].as_str().expect("id").to_owned();

    let bought = order(&app, &ann, json!([{"course_id": c1}])).await;
    pay(&app, &bought).await;
    app.post("/api/v1/cart/items", &json!({"course_id": c1}), Some(&ann))
        .await
        .assert_problem(409, "already_owned");
    app.post(
        "/api/v1/orders",
        &json!({"items": [{"course_id": c1}]}),
        Some(&ann),
    )
    .await
    .assert_problem(409, "already_owned");
    // A curriculum is owned only when every one of its courses is.
    let added = app
        .post(
            "/api/v1/cart/items",
            &json!({"curriculum_id": path}),
            Some(&ann),
        )
        .await;
    assert_eq!(added.status, 201, "{:#}", added.body);
    let line = added.body["id"].as_str().expect("id").to_owned();
    let removed = app
        .delete(&format!("/api/v1/cart/items/{line}"), Some(&ann))
        .await;
    assert_eq!(removed.status, 204);

    let second = order(&app, &ann, json!([{"course_id": c2}])).await;
    pay(&app, &second).await;
    app.post(
        "/api/v1/cart/items",
        &json!({"curriculum_id": path}),
        Some(&ann),
    )
    .await
    .assert_problem(409, "already_owned");
    app.post(
        "/api/v1/orders",
        &json!({"items": [{"curriculum_id": path}]}),
        Some(&ann),
    )
    .await
    .assert_problem(409, "already_owned");
    app.get("/api/v1/orders/current", Some(&ann))
        .await
        .assert_problem(404, "not_found");
}
