//! Lists and reads: what is open now, full-text search, newest and most popular first, keyset
//! pages that neither repeat nor skip, `is_registered` for the caller, and one item.

use super::{apply_path, course_item, enroll_path, in_hours, register, test_item, tutor};
use crate::helpers::{Backend, TestApp, on_both_backends, unique};
use serde_json::{Value, json};

on_both_backends!(
    lists_filter_search_sort_and_mark_the_callers_registrations,
    keyset_pages_neither_repeat_nor_skip_and_keep_their_sort,
    one_item_is_found_under_its_own_kind_only,
);

fn titles(answer: &crate::helpers::Answer) -> Vec<String> {
    answer.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|item| item["title"].as_str().expect("title").to_owned())
        .collect()
}

async fn lists_filter_search_sort_and_mark_the_callers_registrations(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (admin, _) = app.admin(&unique("root")).await;
    let (member, _, _) = app.member(&unique("ann")).await;
    let (other, _, _) = app.member(&unique("bob")).await;
    let older = test_item(&app, &admin, "Grammar basics", 10_000).await;
    let newer = test_item(&app, &admin, "Rustacean certification", 20_000).await;
    let later = json!({"title": "Future listening test", "price": 5_000,
        "starts_at": in_hours(24), "ends_at": in_hours(48)});
    let answer = app.post("/api/v1/admin/tests", &later, Some(&admin)).await;
    assert_eq!(answer.status, 201, "{:#}", answer.body);

    let all = app.get("/api/v1/tests", Some(&member)).await;
    assert_eq!(all.status, 200, "{:#}", all.body);
    assert_eq!(
        titles(&all),
        [
            "Future listening test",
            "Rustacean certification",
            "Grammar basics"
        ],
        "newest first"
    );
    assert_eq!(all.body["next_cursor"], Value::Null);
    let open = app
        .get("/api/v1/tests?status=available", Some(&member))
        .await;
    assert_eq!(
        titles(&open),
        ["Rustacean certification", "Grammar basics"],
        "only what is open now"
    );
    let found = app.get("/api/v1/tests?q=RUSTACEAN", Some(&member)).await;
    assert_eq!(titles(&found), ["Rustacean certification"]);
    let both_words = app
        .get("/api/v1/tests?q=friendly%20grammar", Some(&member))
        .await;
    assert_eq!(
        titles(&both_words),
        ["Grammar basics"],
        "every word, in title or description"
    );
    let none = app.get("/api/v1/tests?q=kubernetes", Some(&member)).await;
    assert_eq!(titles(&none), Vec::<String>::new());
    let blank = app.get("/api/v1/tests?q=%20%20", Some(&member)).await;
    assert_eq!(titles(&blank).len(), 3, "a blank search is no search");
    let too_many = app
        .get(
            "/api/v1/tests?q=a%20b%20c%20d%20e%20f%20g%20h%20i%20j%20k",
            Some(&member),
        )
        .await;
    too_many.assert_problem(400, "validation_failed");
    assert_eq!(too_many.body["errors"][0]["field"], "q");
    app.get("/api/v1/tests?status=closed", Some(&member))
        .await
        .assert_problem(400, "invalid_query");
    app.get("/api/v1/tests?sort=cheapest", Some(&member))
        .await
        .assert_problem(400, "invalid_query");
    app.get("/api/v1/tests?q=a%07b", Some(&member))
        .await
        .assert_problem(400, "validation_failed");
    for invisible in ["a%E2%80%8Bb", "%E2%80%8B", "react%E2%80%AE"] {
        let refused = app
            .get(&format!("/api/v1/tests?q={invisible}"), Some(&member))
            .await;
        refused.assert_problem(400, "validation_failed");
        assert_eq!(refused.body["errors"][0]["field"], "q", "{invisible}");
        assert_eq!(
            refused.body["errors"][0]["code"], "invisible_character",
            "{invisible}"
        );
    }

    // Two registrations for the older test make it the most popular.
    for who in [&member, &other] {
        let paid = register(&app, who, &apply_path(&older), 10_000, "card").await;
        assert_eq!(paid.status, 201, "{:#}", paid.body);
    }
    let popular = app.get("/api/v1/tests?sort=popular", Some(&member)).await;
    assert_eq!(popular.status, 200, "{:#}", popular.body);
    assert_eq!(
        titles(&popular),
        [
            "Grammar basics",
            "Future listening test",
            "Rustacean certification"
        ],
        "by registrations, then newest"
    );
    let items = popular.body["items"].as_array().expect("items");
    assert_eq!(items[0]["registration_count"], 2);
    assert_eq!(items[0]["is_registered"], true);
    assert_eq!(items[2]["is_registered"], false);
    assert_eq!(items[2]["id"], json!(newer));
    let admins_view = app.get("/api/v1/tests?sort=popular", Some(&admin)).await;
    assert_eq!(
        admins_view.body["items"][0]["is_registered"], false,
        "the caller's own"
    );

    // Courses are a list of their own, with their details.
    let (_, tutor_id) = tutor(&app, &admin).await;
    let course = course_item(&app, &admin, &tutor_id, "Python for data", 30_000).await;
    let courses = app.get("/api/v1/courses", Some(&member)).await;
    assert_eq!(titles(&courses), ["Python for data"]);
    let listed = &courses.body["items"][0];
    assert_eq!(
        (
            &listed["category"],
            &listed["skill_level"],
            &listed["tutor_id"]
        ),
        (&json!("Python"), &json!("beginner"), &json!(tutor_id))
    );
    let enrolled = register(&app, &member, &enroll_path(&course), 30_000, "kakaopay").await;
    assert_eq!(enrolled.status, 201, "{:#}", enrolled.body);
    let courses = app.get("/api/v1/courses", Some(&member)).await;
    assert_eq!(courses.body["items"][0]["is_registered"], true);
    assert_eq!(courses.body["items"][0]["registration_count"], 1);
}

async fn keyset_pages_neither_repeat_nor_skip_and_keep_their_sort(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (admin, _) = app.admin(&unique("root")).await;
    let mut created = Vec::new();
    for index in 0..5 {
        created.push(test_item(&app, &admin, &format!("Paged test {index}"), 1_000).await);
    }
    for sort in ["created", "popular"] {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut path = format!("/api/v1/tests?sort={sort}&limit=2");
            if let Some(cursor) = &cursor {
                path.push_str("&cursor=");
                path.push_str(cursor);
            }
            let page = app.get(&path, Some(&admin)).await;
            assert_eq!(page.status, 200, "{:#}", page.body);
            let ids = page.body["items"].as_array().expect("items");
            assert!(ids.len() <= 2);
            seen.extend(
                ids.iter()
                    .map(|item| item["id"].as_str().expect("id").to_owned()),
            );
            match page.body["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => break,
            }
        }
        let expected: Vec<String> = created.iter().rev().cloned().collect();
        assert_eq!(seen, expected, "{sort}: newest first, each once");
    }
    let first = app.get("/api/v1/tests?limit=2", Some(&admin)).await;
    let cursor = first.body["next_cursor"].as_str().expect("a next page");
    let refused = app
        .get(
            &format!("/api/v1/tests?sort=popular&cursor={cursor}"),
            Some(&admin),
        )
        .await;
    refused.assert_problem(400, "validation_failed");
    assert_eq!(refused.body["errors"][0]["field"], "cursor");
    assert_eq!(refused.body["errors"][0]["code"], "invalid_cursor");
    app.get("/api/v1/tests?cursor=garbage", Some(&admin))
        .await
        .assert_problem(400, "validation_failed");
    app.get("/api/v1/tests?limit=101", Some(&admin))
        .await
        .assert_problem(400, "validation_failed");
}

async fn one_item_is_found_under_its_own_kind_only(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (admin, _) = app.admin(&unique("root")).await;
    let (member, _, _) = app.member(&unique("ann")).await;
    let (_, tutor_id) = tutor(&app, &admin).await;
    let test = test_item(&app, &admin, "Single test", 4_000).await;
    let course = course_item(&app, &admin, &tutor_id, "Single course", 4_000).await;

    let one = app
        .get(&format!("/api/v1/tests/{test}"), Some(&member))
        .await;
    assert_eq!(one.status, 200, "{:#}", one.body);
    assert_eq!(one.body["title"], "Single test");
    assert_eq!(one.body["price"], 4_000);
    assert_eq!(one.body["description"], "A friendly item");
    assert_eq!(one.body["is_registered"], false);
    assert!(
        one.body.get("tutor_id").is_none(),
        "a test has no course details"
    );
    let one = app
        .get(&format!("/api/v1/courses/{course}"), Some(&member))
        .await;
    assert_eq!(one.status, 200, "{:#}", one.body);
    assert_eq!(one.body["tutor_id"], json!(tutor_id));
    app.get(&format!("/api/v1/tests/{course}"), Some(&member))
        .await
        .assert_problem(404, "item_not_found");
    app.get(&format!("/api/v1/courses/{test}"), Some(&member))
        .await
        .assert_problem(404, "item_not_found");
    app.get(
        &format!("/api/v1/tests/{}", uuid::Uuid::new_v4()),
        Some(&member),
    )
    .await
    .assert_problem(404, "item_not_found");
    app.get(&format!("/api/v1/tests/{test}"), None)
        .await
        .assert_problem(401, "missing_token");
}
