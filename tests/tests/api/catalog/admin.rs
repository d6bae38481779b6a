//! The items' administration: tests are the admins', courses the admins' and their own tutors';
//! members may do neither. Creation's rules, partial edits, deletion hiding an item.

use super::{in_hours, open_item, tutor};
use crate::helpers::{Backend, TestApp, on_both_backends, unique};
use serde_json::json;

on_both_backends!(
    admins_create_edit_and_delete_tests_and_nobody_else_may,
    tutors_keep_to_their_own_courses,
);

fn field_code(answer: &crate::helpers::Answer) -> (&str, &str) {
    let error = &answer.body["errors"][0];
    (
        error["field"].as_str().unwrap_or_default(),
        error["code"].as_str().unwrap_or_default(),
    )
}

async fn admins_create_edit_and_delete_tests_and_nobody_else_may(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (admin, _) = app.admin(&unique("root")).await;
    let (member, _, _) = app.member(&unique("ann")).await;
    let (tutor_token, tutor_id) = tutor(&app, &admin).await;
    let body = open_item("Admin test", 8_000);

    for who in [&member, &tutor_token] {
        app.post("/api/v1/admin/tests", &body, Some(who))
            .await
            .assert_problem(403, "admin_only");
        // Refused before the body is read: a broken one is a 403 too.
        app.post("/api/v1/admin/tests", &json!({"nonsense": 1}), Some(who))
            .await
            .assert_problem(403, "admin_only");
    }
    let created = app.post("/api/v1/admin/tests", &body, Some(&admin)).await;
    assert_eq!(created.status, 201, "{:#}", created.body);
    let id = created.body["id"].as_str().expect("id").to_owned();
    assert_eq!(
        created.header("location"),
        Some(format!("/api/v1/tests/{id}").as_str())
    );
    assert_eq!(created.body["registration_count"], 0);

    let mut with_course_fields = body.clone();
    with_course_fields["tutor_id"] = json!(tutor_id);
    let refused = app
        .post("/api/v1/admin/tests", &with_course_fields, Some(&admin))
        .await;
    refused.assert_problem(400, "validation_failed");
    assert_eq!(field_code(&refused), ("tutor_id", "not_for_tests"));
    for (field, value, code) in [
        ("title", json!("  "), "title_empty"),
        ("price", json!(-1), "price_negative"),
        ("title", json!("bad\u{7}title"), "control_character"),
        ("starts_at", json!("tomorrow"), "invalid_datetime"),
    ] {
        let mut broken = body.clone();
        broken[field] = value;
        let answer = app.post("/api/v1/admin/tests", &broken, Some(&admin)).await;
        answer.assert_problem(400, "validation_failed");
        assert_eq!(field_code(&answer), (field, code), "{:#}", answer.body);
    }
    let mut backwards = body.clone();
    backwards["ends_at"] = json!(in_hours(-48));
    app.post("/api/v1/admin/tests", &backwards, Some(&admin))
        .await
        .assert_problem(400, "validation_failed");
    let mut unknown = body.clone();
    unknown["colour"] = json!("red");
    app.post("/api/v1/admin/tests", &unknown, Some(&admin))
        .await
        .assert_problem(400, "invalid_body");

    let path = format!("/api/v1/admin/tests/{id}");
    app.patch(&path, &json!({"price": 9_000}), Some(&member))
        .await
        .assert_problem(403, "admin_only");
    let edited = app
        .patch(
            &path,
            &json!({"price": 9_000, "description": null}),
            Some(&admin),
        )
        .await;
    assert_eq!(edited.status, 200, "{:#}", edited.body);
    assert_eq!(edited.body["price"], 9_000);
    assert_eq!(edited.body["description"], serde_json::Value::Null);
    assert_eq!(edited.body["title"], "Admin test", "unsent fields stay");
    // A description is prose: line breaks and tabs pass, other control characters do not.
    let prose = "Part one.\nPart two:\r\n\t- listening";
    let described = app
        .patch(&path, &json!({"description": prose}), Some(&admin))
        .await;
    assert_eq!(described.status, 200, "{:#}", described.body);
    assert_eq!(described.body["description"], prose);
    app.patch(&path, &json!({"description": "bell\u{7}"}), Some(&admin))
        .await
        .assert_problem(400, "validation_failed");
    let renamed = app
        .patch(&path, &json!({"title": "Renamed test"}), Some(&admin))
        .await;
    assert_eq!(renamed.body["price"], 9_000);
    let read = app.get(&format!("/api/v1/tests/{id}"), Some(&member)).await;
    assert_eq!(read.body["title"], "Renamed test");

    app.delete(&path, Some(&member))
        .await
        .assert_problem(403, "admin_only");
    let deleted = app.delete(&path, Some(&admin)).await;
    assert_eq!(deleted.status, 204, "{:#}", deleted.body);
    app.get(&format!("/api/v1/tests/{id}"), Some(&member))
        .await
        .assert_problem(404, "item_not_found");
    app.delete(&path, Some(&admin))
        .await
        .assert_problem(404, "item_not_found");
    let listed = app.get("/api/v1/tests", Some(&member)).await;
    assert_eq!(listed.body["items"], json!([]));
}

async fn tutors_keep_to_their_own_courses(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (admin, _) = app.admin(&unique("root")).await;
    let (member, _, member_id) = app.member(&unique("ann")).await;
    let (first, first_id) = tutor(&app, &admin).await;
    let (second, second_id) = tutor(&app, &admin).await;
    let mut body = open_item("Tutored course", 15_000);
    body["category"] = json!("AWS");
    body["skill_level"] = json!("advanced");

    app.post("/api/v1/admin/courses", &body, Some(&member))
        .await
        .assert_problem(403, "forbidden");
    let own = app.post("/api/v1/admin/courses", &body, Some(&first)).await;
    assert_eq!(own.status, 201, "{:#}", own.body);
    assert_eq!(own.body["tutor_id"], json!(first_id), "the tutor's own");
    assert_eq!(own.body["category"], "AWS");
    let id = own.body["id"].as_str().expect("id").to_owned();
    assert_eq!(
        own.header("location"),
        Some(format!("/api/v1/courses/{id}").as_str())
    );
    let mut for_another = body.clone();
    for_another["tutor_id"] = json!(second_id);
    app.post("/api/v1/admin/courses", &for_another, Some(&first))
        .await
        .assert_problem(403, "not_your_course");
    let mut named_self = body.clone();
    named_self["tutor_id"] = json!(first_id);
    let named = app
        .post("/api/v1/admin/courses", &named_self, Some(&first))
        .await;
    assert_eq!(named.status, 201, "{:#}", named.body);

    // An admin names an active tutor.
    let unnamed = app.post("/api/v1/admin/courses", &body, Some(&admin)).await;
    unnamed.assert_problem(400, "validation_failed");
    assert_eq!(field_code(&unnamed).0, "tutor_id");
    let mut a_member = body.clone();
    a_member["tutor_id"] = json!(member_id);
    let refused = app
        .post("/api/v1/admin/courses", &a_member, Some(&admin))
        .await;
    refused.assert_problem(400, "validation_failed");
    assert_eq!(field_code(&refused), ("tutor_id", "tutor_not_found"));
    let by_admin = app
        .post("/api/v1/admin/courses", &for_another, Some(&admin))
        .await;
    assert_eq!(by_admin.status, 201, "{:#}", by_admin.body);
    assert_eq!(by_admin.body["tutor_id"], json!(second_id));
    let mut without_level = for_another.clone();
    without_level
        .as_object_mut()
        .expect("object")
        .remove("skill_level");
    app.post("/api/v1/admin/courses", &without_level, Some(&admin))
        .await
        .assert_problem(400, "validation_failed");

    let path = format!("/api/v1/admin/courses/{id}");
    app.patch(&path, &json!({"price": 1_000}), Some(&second))
        .await
        .assert_problem(404, "item_not_found");
    app.delete(&path, Some(&second))
        .await
        .assert_problem(404, "item_not_found");
    app.patch(&path, &json!({"tutor_id": second_id}), Some(&first))
        .await
        .assert_problem(403, "not_your_course");
    let edited = app
        .patch(&path, &json!({"skill_level": "intermediate"}), Some(&first))
        .await;
    assert_eq!(edited.status, 200, "{:#}", edited.body);
    assert_eq!(edited.body["skill_level"], "intermediate");
    let moved = app
        .patch(&path, &json!({"tutor_id": second_id}), Some(&admin))
        .await;
    assert_eq!(moved.status, 200, "{:#}", moved.body);
    assert_eq!(moved.body["tutor_id"], json!(second_id));
    app.patch(&path, &json!({"price": 1_000}), Some(&first))
        .await
        .assert_problem(404, "item_not_found");
    app.patch(&path, &json!({"price": 1_000}), Some(&member))
        .await
        .assert_problem(403, "forbidden");
    let deleted = app.delete(&path, Some(&second)).await;
    assert_eq!(deleted.status, 204, "{:#}", deleted.body);
    app.get(&format!("/api/v1/courses/{id}"), Some(&member))
        .await
        .assert_problem(404, "item_not_found");
}
