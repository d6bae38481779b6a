//! Curricula: admins manage every one, tutors their own, members only read; every refusal of
//! the rules; the list's search, filters and keyset pages; the detail with its courses; a soft
//! delete; concurrent edits of the course list.

use super::{course, curriculum_body, field_code, test_item, tutor};
use crate::helpers::{Backend, TestApp, on_both_backends, unique};
use serde_json::{Value, json};

on_both_backends!(
    admins_and_own_tutors_manage_curricula_and_members_may_not,
    a_deleted_curriculum_is_gone_from_list_and_detail,
    every_rule_is_refused_with_its_code_and_nothing_is_written,
    the_list_searches_filters_and_pages,
    concurrent_edits_leave_one_whole_course_list,
    concurrent_edits_of_different_fields_all_hold,
);

const ADMIN: &str = "/api/v1/admin/curricula";

fn admin_path(id: &str) -> String {
    format!("{ADMIN}/{id}")
}

fn path(id: &str) -> String {
    format!("/api/v1/curricula/{id}")
}

fn ids(value: &Value) -> Vec<String> {
    value
        .as_array()
        .expect("an array")
        .iter()
        .map(|id| id.as_str().expect("an id").to_owned())
        .collect()
}

async fn admins_and_own_tutors_manage_curricula_and_members_may_not(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (admin, _) = app.admin(&unique("root")).await;
    let (member, _, member_id) = app.member(&unique("ann")).await;
    let (owner, owner_id) = tutor(&app, &admin).await;
    let (other, other_id) = tutor(&app, &admin).await;
    let c1 = course(&app, &admin, &owner_id, "Hooks", 3_000).await;
    let c2 = course(&app, &admin, &owner_id, "State", 4_000).await;
    let c3 = course(&app, &admin, &other_id, "Testing", 5_000).await;
    let body = curriculum_body("React path", 9_000, &[&c2, &c1]);

    app.post(ADMIN, &body, Some(&member))
        .await
        .assert_problem(403, "forbidden");
    // Refused before the body is read: a broken one is a 403 too.
    app.post(ADMIN, &json!({"nonsense": 1}), Some(&member))
        .await
        .assert_problem(403, "forbidden");
    app.post(ADMIN, &body, None)
        .await
        .assert_problem(401, "missing_token");

    let created = app.post(ADMIN, &body, Some(&owner)).await;
    assert_eq!(created.status, 201, "{:#}", created.body);
    let id = created.body["id"].as_str().expect("id").to_owned();
    assert_eq!(created.header("location"), Some(path(&id).as_str()));
    assert_eq!(created.body["tutor_id"], owner_id.as_str(), "a tutor's own");
    assert_eq!(ids(&created.body["course_ids"]), [c2.clone(), c1.clone()]);
    assert_eq!(created.body["price"], 9_000);
    assert_eq!(created.body["category"], "React");
    assert_eq!(created.body["skill_level"], "intermediate");

    let mut naming_other = body.clone();
    naming_other["tutor_id"] = json!(other_id);
    app.post(ADMIN, &naming_other, Some(&owner))
        .await
        .assert_problem(403, "not_your_curriculum");
    let refused = app.post(ADMIN, &body, Some(&admin)).await;
    refused.assert_problem(400, "validation_failed");
    assert_eq!(field_code(&refused), ("tutor_id".into(), "required".into()));
    let mut naming_member = body.clone();
    naming_member["tutor_id"] = json!(member_id);
    let refused = app.post(ADMIN, &naming_member, Some(&admin)).await;
    refused.assert_problem(400, "validation_failed");
    assert_eq!(
        field_code(&refused),
        ("tutor_id".into(), "tutor_not_found".into())
    );
    let by_admin = app.post(ADMIN, &naming_other, Some(&admin)).await;
    assert_eq!(by_admin.status, 201, "{:#}", by_admin.body);
    assert_eq!(by_admin.body["tutor_id"], other_id.as_str());

    // Another tutor's curriculum is not found to a tutor, whatever they try.
    let edit = json!({"price": 1});
    app.patch(&admin_path(&id), &edit, Some(&other))
        .await
        .assert_problem(404, "not_found");
    app.delete(&admin_path(&id), Some(&other))
        .await
        .assert_problem(404, "not_found");
    app.patch(&admin_path(&id), &edit, Some(&member))
        .await
        .assert_problem(403, "forbidden");
    app.delete(&admin_path(&id), Some(&member))
        .await
        .assert_problem(403, "forbidden");
    app.patch(
        &admin_path(&id),
        &json!({"tutor_id": other_id}),
        Some(&owner),
    )
    .await
    .assert_problem(403, "not_your_curriculum");

    // A tutor links only the courses they teach: `c3` is `other`'s, refused and named, and
    // nothing of the edit is written; on a create too.
    let foreign = app
        .patch(
            &admin_path(&id),
            &json!({"price": 7_500, "description": null, "course_ids": [c3, c1]}),
            Some(&owner),
        )
        .await;
    foreign.assert_problem(409, "unknown_course");
    assert_eq!(
        field_code(&foreign),
        ("course_ids".into(), "course_not_yours".into())
    );
    let message = foreign.body["errors"][0]["message"].as_str().expect("text");
    assert!(message.contains(c3.as_str()), "{message}");
    assert!(!message.contains(c1.as_str()), "{message}");
    let unchanged = app.get(&path(&id), Some(&owner)).await;
    assert_eq!(unchanged.body["price"], 9_000, "nothing written");
    assert_eq!(ids(&unchanged.body["course_ids"]), [c2.clone(), c1.clone()]);
    let foreign = app
        .post(
            ADMIN,
            &curriculum_body("Borrowed", 100, &[&c1, &c3]),
            Some(&owner),
        )
        .await;
    foreign.assert_problem(409, "unknown_course");
    assert_eq!(
        field_code(&foreign),
        ("course_ids".into(), "course_not_yours".into())
    );

    let edited = app
        .patch(
            &admin_path(&id),
            &json!({"price": 7_500, "description": null, "course_ids": [c1]}),
            Some(&owner),
        )
        .await;
    assert_eq!(edited.status, 200, "{:#}", edited.body);
    assert_eq!(edited.body["price"], 7_500);
    assert_eq!(edited.body["description"], Value::Null);
    assert_eq!(edited.body["name"], "React path", "unsent fields stay");
    assert_eq!(ids(&edited.body["course_ids"]), [c1.as_str()]);
    // An admin links any tutor's course.
    let widened = app
        .patch(
            &admin_path(&id),
            &json!({"course_ids": [c3, c1]}),
            Some(&admin),
        )
        .await;
    assert_eq!(widened.status, 200, "{:#}", widened.body);
    assert_eq!(ids(&widened.body["course_ids"]), [c3.clone(), c1.clone()]);
    let renamed = app
        .patch(&admin_path(&id), &json!({"name": "Renamed"}), Some(&admin))
        .await;
    assert_eq!(renamed.status, 200, "{:#}", renamed.body);
    assert_eq!(ids(&renamed.body["course_ids"]), [c3.clone(), c1.clone()]);

    // Every user reads the detail: the courses in order with their titles and prices.
    let read = app.get(&path(&id), Some(&member)).await;
    assert_eq!(read.status, 200, "{:#}", read.body);
    assert_eq!(read.body["name"], "Renamed");
    assert_eq!(read.body["price"], 7_500);
    assert_eq!(
        read.body["courses"],
        json!([{"id": c3, "title": "Testing", "price": 5_000},
               {"id": c1, "title": "Hooks", "price": 3_000}])
    );
    app.get(&path(&uuid::Uuid::now_v7().to_string()), Some(&member))
        .await
        .assert_problem(404, "not_found");
    app.get(&path(&id), None)
        .await
        .assert_problem(401, "missing_token");
}

async fn a_deleted_curriculum_is_gone_from_list_and_detail(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (admin, _) = app.admin(&unique("root")).await;
    let (member, _, _) = app.member(&unique("ann")).await;
    let (owner, owner_id) = tutor(&app, &admin).await;
    let c1 = course(&app, &admin, &owner_id, "Hooks", 3_000).await;
    let doomed = app
        .post(
            ADMIN,
            &curriculum_body("Doomed", 1_000, &[&c1]),
            Some(&owner),
        )
        .await;
    let kept = app
        .post(ADMIN, &curriculum_body("Kept", 1_000, &[&c1]), Some(&owner))
        .await;
    let (doomed, kept) = (
        doomed.body["id"].as_str().expect("id").to_owned(),
        kept.body["id"].as_str().expect("id").to_owned(),
    );
    let deleted = app.delete(&admin_path(&doomed), Some(&owner)).await;
    assert_eq!(deleted.status, 204, "{:#}", deleted.body);
    app.get(&path(&doomed), Some(&member))
        .await
        .assert_problem(404, "not_found");
    app.delete(&admin_path(&doomed), Some(&admin))
        .await
        .assert_problem(404, "not_found");
    app.patch(&admin_path(&doomed), &json!({"price": 5}), Some(&admin))
        .await
        .assert_problem(404, "not_found");
    let listed = app.get("/api/v1/curricula", Some(&member)).await;
    assert_eq!(listed.status, 200, "{:#}", listed.body);
    let shown: Vec<&str> = listed.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|item| item["id"].as_str())
        .collect();
    assert_eq!(shown, [kept.as_str()]);
    let searched = app.get("/api/v1/curricula?q=doomed", Some(&member)).await;
    assert_eq!(searched.body["items"], json!([]));
}

async fn every_rule_is_refused_with_its_code_and_nothing_is_written(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (admin, _) = app.admin(&unique("root")).await;
    let (owner, owner_id) = tutor(&app, &admin).await;
    let c1 = course(&app, &admin, &owner_id, "Hooks", 3_000).await;
    let gone = course(&app, &admin, &owner_id, "Gone", 3_000).await;
    let deleted = app
        .delete(&format!("/api/v1/admin/courses/{gone}"), Some(&admin))
        .await;
    assert_eq!(deleted.status, 204, "{:#}", deleted.body);
    let test = test_item(&app, &admin).await;
    let nothing = uuid::Uuid::now_v7().to_string();

    for unknown in [&nothing, &test, &gone] {
        let answer = app
            .post(
                ADMIN,
                &curriculum_body("Broken", 1_000, &[&c1, unknown]),
                Some(&owner),
            )
            .await;
        answer.assert_problem(409, "unknown_course");
        assert_eq!(
            field_code(&answer),
            ("course_ids".into(), "course_not_found".into())
        );
        let message = answer.body["errors"][0]["message"].as_str().expect("text");
        assert!(message.contains(unknown.as_str()), "{message}");
        assert!(!message.contains(c1.as_str()), "{message}");
    }
    let base = curriculum_body("Fine", 1_000, &[&c1]);
    let fifty_one: Vec<String> = (0..51).map(|_| uuid::Uuid::now_v7().to_string()).collect();
    for (field, value, code) in [
        ("name", json!("   "), "name_empty"),
        ("name", json!("가".repeat(256)), "name_too_long"),
        ("name", json!("bad\u{7}name"), "control_character"),
        ("name", json!("evil\u{202e}name"), "invisible_character"),
        ("name", json!("zero\u{200b}width"), "invisible_character"),
        (
            "description",
            json!("x".repeat(5_001)),
            "description_too_long",
        ),
        ("description", json!("bell\u{7}"), "control_character"),
        ("price", json!(-1), "price_negative"),
        ("price", json!(100_000_001), "price_too_high"),
        ("course_ids", json!([]), "courses_empty"),
        ("course_ids", json!(fifty_one), "too_many_courses"),
        ("course_ids", json!([c1, c1]), "duplicate_course"),
        ("course_ids", json!(["not-a-uuid"]), "invalid_id"),
        ("course_ids", json!(["\u{0}"]), "invalid_id"),
        ("tutor_id", json!("nope"), "invalid_id"),
        ("tutor_id", json!("a".repeat(65)), "invalid_id"),
        (
            "course_ids",
            json!(vec![c1.clone(); 1_001]),
            "too_many_courses",
        ),
    ] {
        let mut broken = base.clone();
        broken[field] = value;
        let answer = app.post(ADMIN, &broken, Some(&owner)).await;
        answer.assert_problem(400, "validation_failed");
        assert_eq!(
            field_code(&answer),
            (field.to_owned(), code.to_owned()),
            "{:#}",
            answer.body
        );
    }
    for (field, value) in [
        ("colour", json!("red")),
        ("category", json!("Rust")),
        ("skill_level", json!("expert")),
        ("price", json!(1.5)),
        ("course_ids", json!("one")),
    ] {
        let mut broken = base.clone();
        broken[field] = value;
        app.post(ADMIN, &broken, Some(&owner))
            .await
            .assert_problem(400, "invalid_body");
    }
    let mut missing = base.clone();
    missing
        .as_object_mut()
        .expect("an object")
        .remove("course_ids");
    app.post(ADMIN, &missing, Some(&owner))
        .await
        .assert_problem(400, "invalid_body");
    let listed = app.get("/api/v1/curricula", Some(&owner)).await;
    assert_eq!(listed.body["items"], json!([]), "nothing was written");

    // The same rules on an edit, which then changes nothing.
    let made = app.post(ADMIN, &base, Some(&owner)).await;
    assert_eq!(made.status, 201, "{:#}", made.body);
    let id = made.body["id"].as_str().expect("id").to_owned();
    for (edit, status, code) in [
        (json!({"name": ""}), 400, "validation_failed"),
        (json!({"course_ids": []}), 400, "validation_failed"),
        (
            json!({"description": "bell\u{7}"}),
            400,
            "validation_failed",
        ),
        (json!({"price": -3}), 400, "validation_failed"),
        (json!({"course_ids": [c1, gone]}), 409, "unknown_course"),
        (json!({"tutor_id": "x"}), 400, "validation_failed"),
        (json!({"name": null}), 400, "validation_failed"),
        (json!({"colour": 1}), 400, "invalid_body"),
    ] {
        app.patch(&admin_path(&id), &edit, Some(&owner))
            .await
            .assert_problem(status, code);
    }
    // `null` is no way to leave a field out: refused on every field that cannot be empty, each
    // listed, with the other broken rules of the handler.
    let nulls = app
        .patch(
            &admin_path(&id),
            &json!({"name": null, "price": null, "category": null, "skill_level": null,
                    "tutor_id": null, "course_ids": null, "description": "bell\u{7}"}),
            Some(&owner),
        )
        .await;
    nulls.assert_problem(400, "validation_failed");
    let listed: Vec<(String, String)> = nulls.body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|error| {
            (
                error["field"].as_str().expect("field").to_owned(),
                error["code"].as_str().expect("code").to_owned(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = [
        ("category", "invalid_value"),
        ("course_ids", "invalid_value"),
        ("description", "control_character"),
        ("name", "invalid_value"),
        ("price", "invalid_value"),
        ("skill_level", "invalid_value"),
        ("tutor_id", "invalid_value"),
    ]
    .iter()
    .map(|(field, code)| ((*field).to_owned(), (*code).to_owned()))
    .collect();
    assert_eq!(listed, expected, "{:#}", nulls.body);
    let too_many = app
        .patch(
            &admin_path(&id),
            &json!({"course_ids": vec![c1.clone(); 1_001]}),
            Some(&owner),
        )
        .await;
    too_many.assert_problem(400, "validation_failed");
    assert_eq!(
        field_code(&too_many),
        ("course_ids".into(), "too_many_courses".into())
    );
    app.patch(
        "/api/v1/admin/curricula/not-a-uuid",
        &json!({}),
        Some(&owner),
    )
    .await
    .assert_problem(404, "not_found");
    let read = app.get(&path(&id), Some(&owner)).await;
    assert_eq!(read.body["name"], "Fine");
    assert_eq!(ids(&read.body["course_ids"]), [c1]);
}

/// Every item of the list under `filter`, following `next_cursor` with pages of two.
async fn all_pages(app: &TestApp, token: &str, filter: &str) -> Vec<Value> {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..50 {
        let mut url = format!("/api/v1/curricula?limit=2{filter}");
        if let Some(cursor) = &cursor {
            url.push_str("&cursor=");
            url.push_str(cursor);
        }
        let page = app.get(&url, Some(token)).await;
        assert_eq!(page.status, 200, "{url}: {:#}", page.body);
        all.extend(
            page.body["items"]
                .as_array()
                .expect("items")
                .iter()
                .cloned(),
        );
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return all,
        }
    }
    panic!("too many pages");
}

fn names(items: &[Value]) -> Vec<&str> {
    items
        .iter()
        .map(|item| item["name"].as_str().expect("name"))
        .collect()
}

async fn the_list_searches_filters_and_pages(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (admin, _) = app.admin(&unique("root")).await;
    let (member, _, _) = app.member(&unique("ann")).await;
    let (owner, owner_id) = tutor(&app, &admin).await;
    let c1 = course(&app, &admin, &owner_id, "Hooks", 3_000).await;
    for (name, price, category, level) in [
        ("React Hooks", 0, "React", "beginner"),
        ("React Native", 10_000, "React", "advanced"),
        ("AWS Lambda", 20_000, "AWS", "beginner"),
        ("Docker & React", 30_000, "Docker", "advanced"),
        ("Postgres indexes", 40_000, "DB", "intermediate"),
    ] {
        let mut body = curriculum_body(name, price, &[&c1]);
        body["category"] = json!(category);
        body["skill_level"] = json!(level);
        let answer = app.post(ADMIN, &body, Some(&owner)).await;
        assert_eq!(answer.status, 201, "{:#}", answer.body);
    }
    let everything = all_pages(&app, &member, "").await;
    assert_eq!(
        names(&everything),
        [
            "Postgres indexes",
            "Docker & React",
            "AWS Lambda",
            "React Native",
            "React Hooks"
        ],
        "newest first, each once"
    );
    for (filter, expected) in [
        (
            "&q=react",
            vec!["Docker & React", "React Native", "React Hooks"],
        ),
        ("&q=REACT%20hooks", vec!["React Hooks"]),
        ("&q=react%20%7C%20aws", vec![]),
        ("&q=%26%7C%21", vec![]),
        ("&q=%20%20", names(&everything)),
        ("&category=React", vec!["React Native", "React Hooks"]),
        ("&category=AWS", vec!["AWS Lambda"]),
        (
            "&skill_level=advanced",
            vec!["Docker & React", "React Native"],
        ),
        (
            "&min_price=10000&max_price=30000",
            vec!["Docker & React", "AWS Lambda", "React Native"],
        ),
        ("&min_price=10001&max_price=19999", vec![]),
        ("&max_price=0", vec!["React Hooks"]),
        ("&min_price=40000", vec!["Postgres indexes"]),
        ("&min_price=5&max_price=5", vec![]),
        (
            "&q=react&category=React&skill_level=advanced&min_price=10000",
            vec!["React Native"],
        ),
    ] {
        let found = all_pages(&app, &member, filter).await;
        assert_eq!(names(&found), expected, "{filter}");
    }
    for (query, field, code) in [
        ("min_price=3&max_price=2", "min_price", "min_above_max"),
        ("min_price=-1", "min_price", "price_negative"),
        ("max_price=-1", "max_price", "price_negative"),
        ("limit=0", "limit", "invalid_limit"),
        ("limit=101", "limit", "invalid_limit"),
        ("cursor=garbage", "cursor", "invalid_cursor"),
        ("q=a%00b", "q", "control_character"),
        ("q=a%E2%80%8Bb", "q", "invisible_character"),
        ("q=%E2%80%AE", "q", "invisible_character"),
    ] {
        let answer = app
            .get(&format!("/api/v1/curricula?{query}"), Some(&member))
            .await;
        answer.assert_problem(400, "validation_failed");
        assert_eq!(
            field_code(&answer),
            (field.to_owned(), code.to_owned()),
            "{query}"
        );
    }
    let too_long = "a ".repeat(11);
    let answer = app
        .get(
            &format!("/api/v1/curricula?q={}", too_long.replace(' ', "%20")),
            Some(&member),
        )
        .await;
    answer.assert_problem(400, "validation_failed");
    assert_eq!(field_code(&answer), ("q".into(), "search_too_long".into()));
    for query in [
        "category=Rust",
        "skill_level=expert",
        "min_price=cheap",
        "colour=red",
    ] {
        app.get(&format!("/api/v1/curricula?{query}"), Some(&member))
            .await
            .assert_problem(400, "invalid_query");
    }
    // A cursor of another list is not this list's.
    let first = app.get("/api/v1/curricula?limit=1", Some(&member)).await;
    let cursor = first.body["next_cursor"].as_str().expect("a next page");
    let answer = app
        .get(&format!("/api/v1/courses?cursor={cursor}"), Some(&member))
        .await;
    answer.assert_problem(400, "validation_failed");
}

async fn concurrent_edits_leave_one_whole_course_list(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (admin, _) = app.admin(&unique("root")).await;
    let (owner, owner_id) = tutor(&app, &admin).await;
    let mut pool = Vec::new();
    for n in 0..12 {
        pool.push(course(&app, &admin, &owner_id, &format!("Course {n}"), 1_000).await);
    }
    let made = app
        .post(
            ADMIN,
            &curriculum_body("Contended", 1_000, &[&pool[0]]),
            Some(&owner),
        )
        .await;
    let id = made.body["id"].as_str().expect("id").to_owned();
    let lists: Vec<Vec<String>> = (0..10)
        .map(|n| vec![pool[n].clone(), pool[n + 1].clone(), pool[n + 2].clone()])
        .collect();
    let target = admin_path(&id);
    let bodies: Vec<Value> = lists
        .iter()
        .map(|list| json!({"course_ids": list}))
        .collect();
    let answers = futures_util::future::join_all(
        bodies
            .iter()
            .map(|body| app.patch(&target, body, Some(&owner))),
    )
    .await;
    for answer in &answers {
        assert_eq!(answer.status, 200, "{:#}", answer.body);
    }
    let read = app.get(&path(&id), Some(&owner)).await;
    let stored = ids(&read.body["course_ids"]);
    assert!(lists.contains(&stored), "a whole list: {stored:?}");
    let shown: Vec<String> = read.body["courses"]
        .as_array()
        .expect("courses")
        .iter()
        .map(|course| course["id"].as_str().expect("id").to_owned())
        .collect();
    assert_eq!(shown, stored);
}

/// Two admins edit different fields of one curriculum at once (the tutor and the price, then
/// the name and the level), round after round: both changes hold every time, neither undone by
/// the other.
async fn concurrent_edits_of_different_fields_all_hold(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (admin, _) = app.admin(&unique("root")).await;
    let (second, _) = app.admin(&unique("boss")).await;
    let (owner, owner_id) = tutor(&app, &admin).await;
    let (_, other_id) = tutor(&app, &admin).await;
    let c1 = course(&app, &admin, &owner_id, "Hooks", 1_000).await;
    for round in 0..5_i64 {
        let made = app
            .post(
                ADMIN,
                &curriculum_body(&format!("Raced {round}"), 10_000, &[&c1]),
                Some(&owner),
            )
            .await;
        assert_eq!(made.status, 201, "{:#}", made.body);
        let target = admin_path(made.body["id"].as_str().expect("id"));
        let price = 20_000 + round;
        let tutor_edit = json!({"tutor_id": other_id});
        let price_edit = json!({"price": price});
        let (a, b) = futures_util::future::join(
            app.patch(&target, &tutor_edit, Some(&admin)),
            app.patch(&target, &price_edit, Some(&second)),
        )
        .await;
        assert_eq!(
            (a.status, b.status),
            (200, 200),
            "{:#} {:#}",
            a.body,
            b.body
        );
        let name_edit = json!({"name": format!("Renamed {round}")});
        let level_edit = json!({"skill_level": "advanced"});
        let (a, b) = futures_util::future::join(
            app.patch(&target, &name_edit, Some(&second)),
            app.patch(&target, &level_edit, Some(&admin)),
        )
        .await;
        assert_eq!(
            (a.status, b.status),
            (200, 200),
            "{:#} {:#}",
            a.body,
            b.body
        );
        let read = app.get(&target.replace("/admin/", "/"), Some(&admin)).await;
        assert_eq!(read.status, 200, "{:#}", read.body);
        assert_eq!(read.body["tutor_id"], other_id.as_str(), "round {round}");
        assert_eq!(read.body["price"], price, "round {round}");
        assert_eq!(
            read.body["name"],
            format!("Renamed {round}").as_str(),
            "round {round}"
        );
        assert_eq!(read.body["skill_level"], "advanced", "round {round}");
        assert_eq!(read.body["category"], "React", "round {round}");
    }
}
