//! Login limits over HTTP: guesses sent in parallel get no more verdicts than the limit, a
//! guesser at another address does not lock the owner out, one address is limited across
//! accounts, a client cannot choose its address, and `current_password` is guarded the same way.

use crate::helpers::{Answer, Backend, TestApp, on_both_backends, unique};
use futures_util::future::join_all;
use reserva_server::Settings;
use serde_json::json;

on_both_backends!(
    parallel_guesses_get_at_most_the_limit_of_verdicts,
    a_guesser_elsewhere_does_not_lock_the_owner_out,
    one_address_is_limited_across_accounts,
    forwarded_for_from_an_untrusted_peer_is_ignored,
    current_password_guesses_are_limited,
);

/// `auth.login_failure_limit` and `auth.login_address_limit` by default.
const PER_ACCOUNT_AND_ADDRESS: usize = 5;
const PER_ADDRESS: usize = 20;

/// The tests' own client is 127.0.0.1; trusting it as a proxy lets `X-Forwarded-For` play
/// clients at other addresses.
fn behind_a_proxy(settings: &mut Settings) {
    settings.server.trusted_proxies = vec!["127.0.0.1".into()];
}

async fn login_from(app: &TestApp, email: &str, password: &str, client: &str) -> Answer {
    let body = json!({"email": email, "password": password});
    let request = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("X-Forwarded-For", client)
        .json(&body);
    app.send(request).await
}

fn assert_throttled(answer: &Answer) {
    answer.assert_problem(429, "too_many_login_attempts");
    let retry_after: Option<u64> = answer.header("retry-after").and_then(|v| v.parse().ok());
    assert!(
        retry_after.is_some_and(|seconds| (1..=900).contains(&seconds)),
        "{:?}",
        answer.headers
    );
}

/// 60 logins at once for one account, the right password among them: the check and the count
/// are one step, so no more than the limit get a verdict on a wrong password.
async fn parallel_guesses_get_at_most_the_limit_of_verdicts(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let name = unique("ivy");
    app.signup(&name).await;
    let attempts = (0..60).map(|index| {
        let password = if index == 30 {
            "secret123"
        } else {
            "wrong-password1"
        };
        app.login(&name, password)
    });
    let answers = join_all(attempts).await;
    let count = |status: u16| answers.iter().filter(|a| a.status == status).count();
    let (failed, succeeded, throttled) = (count(401), count(200), count(429));
    let statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
    assert_eq!(failed + succeeded + throttled, 60, "{statuses:?}");
    assert!(failed <= PER_ACCOUNT_AND_ADDRESS, "{statuses:?}");
    // An accepted right password is withdrawn from the count, which may let one more guess
    // through after it: never more.
    assert!(
        succeeded <= 1 && throttled >= 60 - PER_ACCOUNT_AND_ADDRESS - 1,
        "{statuses:?}"
    );
    for answer in answers.iter().filter(|a| a.status == 429) {
        assert_throttled(answer);
    }
}

async fn a_guesser_elsewhere_does_not_lock_the_owner_out(backend: Backend) {
    let app = TestApp::spawn_with(backend, behind_a_proxy).await;
    let name = unique("jon");
    app.signup(&name).await;
    let email = format!("{name}@example.com");
    for _ in 0..PER_ACCOUNT_AND_ADDRESS {
        login_from(&app, &email, "wrong-password1", "203.0.113.7")
            .await
            .assert_problem(401, "invalid_credentials");
    }
    let guesser = login_from(&app, &email, "secret123", "203.0.113.7").await;
    assert_throttled(&guesser);
    let owner = login_from(&app, &email, "secret123", "198.51.100.20").await;
    assert_eq!(owner.status, 200, "the owner logs in: {:#}", owner.body);
}

async fn one_address_is_limited_across_accounts(backend: Backend) {
    let app = TestApp::spawn_with(backend, behind_a_proxy).await;
    let name = unique("kim");
    app.signup(&name).await;
    let tag = unique("spray");
    for index in 0..PER_ADDRESS {
        let email = format!("{tag}{index}@example.com");
        login_from(&app, &email, "wrong-password1", "203.0.113.8")
            .await
            .assert_problem(401, "invalid_credentials");
    }
    let email = format!("{name}@example.com");
    assert_throttled(&login_from(&app, &email, "secret123", "203.0.113.8").await);
    let elsewhere = login_from(&app, &email, "secret123", "198.51.100.21").await;
    assert_eq!(elsewhere.status, 200, "{:#}", elsewhere.body);
}

/// Without a trusted proxy the header is the client's own word: a new one per guess buys no new
/// address.
async fn forwarded_for_from_an_untrusted_peer_is_ignored(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let tag = unique("spoof");
    for index in 0..PER_ADDRESS {
        let email = format!("{tag}{index}@example.com");
        login_from(
            &app,
            &email,
            "wrong-password1",
            &format!("198.51.100.{index}"),
        )
        .await
        .assert_problem(401, "invalid_credentials");
    }
    let email = format!("{tag}x@example.com");
    assert_throttled(&login_from(&app, &email, "wrong-password1", "192.0.2.99").await);
}

/// A stolen access token must not be a way to guess the password: `current_password` counts
/// against the same limits as a login.
async fn current_password_guesses_are_limited(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let name = unique("max");
    let (access, _, _) = app.member(&name).await;
    let change = |current: &str| json!({"password": "newsecret1", "current_password": current});
    for _ in 0..PER_ACCOUNT_AND_ADDRESS {
        app.patch("/api/v1/users/me", &change("wrong-guess1"), Some(&access))
            .await
            .assert_problem(400, "validation_failed");
    }
    let right = app
        .patch("/api/v1/users/me", &change("secret123"), Some(&access))
        .await;
    assert_throttled(&right);
    assert_throttled(&app.login(&name, "secret123").await);
}
