//! Refreshes that race: two (or ten) tabs presenting one refresh token at the same instant must
//! all end with the same new pair in a live session, while a presentation after the grace window
//! is still reuse and revokes the session.

use crate::helpers::{Answer, Backend, TestApp, on_both_backends, unique};
use futures_util::future::join_all;
use serde_json::json;
use std::time::Duration;

on_both_backends!(
    simultaneous_refreshes_with_one_token_all_get_the_same_pair,
    a_repeat_after_the_grace_window_revokes_the_session,
);

fn pair(answer: &Answer) -> (String, String) {
    let text = |key: &str| answer.body[key].as_str().unwrap_or_default().to_owned();
    (text("access_token"), text("refresh_token"))
}

async fn refresh(app: &TestApp, token: &str) -> Answer {
    let body = json!({ "refresh_token": token });
    app.post("/api/v1/auth/refresh", &body, None).await
}

async fn simultaneous_refreshes_with_one_token_all_get_the_same_pair(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, token, _) = app.member(&unique("tab")).await;
    let answers = join_all((0..10).map(|_| refresh(&app, &token))).await;
    for answer in &answers {
        assert_eq!(
            answer.status, 200,
            "every tab gets a pair: {:#}",
            answer.body
        );
    }
    let (access, next) = pair(&answers[0]);
    for answer in &answers {
        assert_eq!(
            pair(answer),
            (access.clone(), next.clone()),
            "one pair for all"
        );
    }
    assert_ne!(next, token);
    let me = app.get("/api/v1/users/me", Some(&access)).await;
    assert_eq!(me.status, 200, "the session is alive: {:#}", me.body);
    let onward = refresh(&app, &next).await;
    assert_eq!(
        onward.status, 200,
        "the shared successor works: {:#}",
        onward.body
    );
}

async fn a_repeat_after_the_grace_window_revokes_the_session(backend: Backend) {
    let app = TestApp::spawn_with(backend, |settings| {
        settings.auth.refresh_grace_seconds = 1;
    })
    .await;
    let (_, token, _) = app.member(&unique("late")).await;
    let rotated = refresh(&app, &token).await;
    assert_eq!(rotated.status, 200, "{:#}", rotated.body);
    let (access, next) = pair(&rotated);
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    refresh(&app, &token)
        .await
        .assert_problem(401, "refresh_token_reused");
    app.get("/api/v1/users/me", Some(&access))
        .await
        .assert_problem(401, "token_revoked");
    refresh(&app, &next)
        .await
        .assert_problem(401, "invalid_refresh_token");
}
