//! Text that looks like SQL, like `LIKE` wildcards, or hides itself, in every text input of the
//! API: each is refused with a 400 naming the input or treated as plain text, and a search for a
//! wildcard matches only that character. Every query of both stores binds its values, so the
//! SQL-looking strings can only ever be data; these tests show that from the outside.

use super::document::{Document, Kind, encoded, session};
use crate::helpers::{Backend, TestApp, on_both_backends, unique};
use serde_json::{Value, json};

on_both_backends!(
    sql_and_wildcard_text_is_refused_or_plain_in_every_input,
    a_user_search_matches_wildcards_literally,
    sql_in_a_search_or_a_title_is_only_text,
);

/// Whole values: SQL fragments, `LIKE` wildcards and their escape, and invisible or
/// direction-changing characters on their own.
const HOSTILE: [&str; 16] = [
    "' OR 1=1 --",
    "'; DROP TABLE users; --",
    "\" OR \"\"=\"",
    "1' UNION SELECT NULL, version() --",
    "%",
    "_",
    "\\",
    "%%",
    "%_%",
    "\\%",
    "*",
    "$1",
    "\u{0}",
    "\u{200b}",
    "\u{202e}abc",
    "\u{feff}",
];

async fn sql_and_wildcard_text_is_refused_or_plain_in_every_input(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let document = Document::served(&app).await;
    let admin = unique("sqltext");
    app.admin(&admin).await;
    let inputs: Vec<_> = document
        .inputs()
        .into_iter()
        .filter(|input| input.kind == Kind::Text)
        .collect();
    assert!(inputs.len() >= 30, "{} text inputs", inputs.len());
    for input in &inputs {
        let mut token = session(&app, &admin).await;
        for hostile in HOSTILE {
            // A logout the value passes ends the session it was sent with.
            if input.path.ends_with("/auth/logout") {
                token = session(&app, &admin).await;
            }
            let value = match input.place {
                super::document::Place::Body => json!(hostile).to_string(),
                _ => encoded(hostile),
            };
            let answer = app
                .send(document.request(&app, input, &value).bearer_auth(&token))
                .await;
            document.assert_documented(input, &value, &answer);
            if hostile == "\u{0}" {
                assert_eq!(answer.status, 400, "{input:?}: {:#}", answer.body);
            }
        }
    }
}

fn usernames(answer: &crate::helpers::Answer) -> Vec<String> {
    let mut names: Vec<String> = answer.body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("a page: {:#}", answer.body))
        .iter()
        .map(|user| user["username"].as_str().expect("username").to_owned())
        .collect();
    names.sort();
    names
}

/// An administrator's user search for `q`.
async fn search(app: &TestApp, admin: &str, q: &str) -> crate::helpers::Answer {
    let path = format!("/api/v1/admin/users?q={}", encoded(q));
    app.get(&path, Some(admin)).await
}

/// `_` and `%` in a user search are characters, not wildcards; `\` is not an escape.
async fn a_user_search_matches_wildcards_literally(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (admin, _) = app.admin(&unique("finder")).await;
    let tag = unique("lk");
    let with_underscore = format!("{tag}_a1");
    let without = format!("{tag}xa2");
    let dotted = format!("{tag}.a3");
    for name in [&with_underscore, &without, &dotted] {
        app.signup(name).await;
    }
    let all = search(&app, &admin, &tag).await;
    assert_eq!(usernames(&all), {
        let mut expected = vec![with_underscore.clone(), without.clone(), dotted.clone()];
        expected.sort();
        expected
    });
    assert_eq!(
        usernames(&search(&app, &admin, &format!("{tag}_")).await),
        vec![with_underscore.clone()]
    );
    assert_eq!(
        usernames(&search(&app, &admin, &format!("{tag}_a")).await),
        vec![with_underscore.clone()]
    );
    for nothing in [
        format!("{tag}%"),
        format!("{tag}%a"),
        format!("{tag}\\"),
        format!("{tag}\\_"),
        format!("{tag}' OR 1=1 --"),
        format!("{tag}__a"),
    ] {
        let answer = search(&app, &admin, &nothing).await;
        assert_eq!(answer.status, 200, "{nothing}: {:#}", answer.body);
        assert_eq!(usernames(&answer), Vec::<String>::new(), "{nothing}");
    }
    // A lone wildcard finds only names that hold it; the tag's users hold no `%`.
    let percent = search(&app, &admin, "%").await;
    assert!(
        usernames(&percent).iter().all(|name| name.contains('%')),
        "{:#}",
        percent.body
    );
}

/// The titles a member's search for `q` lists, sorted.
async fn listed(app: &TestApp, member: &str, q: &str) -> Vec<String> {
    let path = format!("/api/v1/tests?q={}", encoded(q));
    let answer = app.get(&path, Some(member)).await;
    assert_eq!(answer.status, 200, "{q}: {:#}", answer.body);
    let mut found: Vec<String> = answer.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|item| item["title"].as_str().map(str::to_owned))
        .collect();
    found.sort();
    found
}

/// A title holding SQL is stored and shown as written; a search holding SQL finds only the
/// words it holds.
async fn sql_in_a_search_or_a_title_is_only_text(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (admin, _) = app.admin(&unique("titler")).await;
    let (member, _, _) = app.member(&unique("reader")).await;
    let titles = [
        "Robert'); DROP TABLE catalog_items; --",
        "100% _sure_ \\ backslash",
        "Ordinary grammar",
    ];
    for title in titles {
        let body = json!({
            "title": title,
            "price": 1000,
            "starts_at": "2026-12-20T09:00:00+09:00",
            "ends_at": "2026-12-31T18:00:00+09:00",
        });
        let created = app.post("/api/v1/admin/tests", &body, Some(&admin)).await;
        assert_eq!(created.status, 201, "{title}: {:#}", created.body);
        assert_eq!(created.body["title"], title);
    }
    assert_eq!(listed(&app, &member, "").await.len(), 3);
    assert_eq!(listed(&app, &member, "drop table").await, [titles[0]]);
    assert_eq!(
        listed(&app, &member, "' OR 1=1 --").await,
        Vec::<String>::new()
    );
    assert_eq!(
        listed(&app, &member, "grammar' OR '1'='1").await,
        Vec::<String>::new()
    );
    assert_eq!(listed(&app, &member, "sure").await, [titles[1]]);
    assert_eq!(
        listed(&app, &member, "\" OR \"\"=\"").await,
        Vec::<String>::new()
    );
    let all = app.get("/api/v1/tests", Some(&member)).await;
    let stored: Vec<&Value> = all.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .collect();
    assert!(stored.iter().any(|item| item["title"] == titles[0]));
}
