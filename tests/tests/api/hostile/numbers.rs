//! Numbers at and past the limits of the integer types, in every integer input of the API, and
//! values that only look like numbers; years, dates and cursors at and past what the stores can
//! hold. Every answer is documented and below 500; a value past what an input allows is a 400
//! naming the input, never a wrapped or truncated number that is then acted on.

use super::document::{Document, Input, Kind, Place, encoded, session};
use crate::helpers::{Backend, TestApp, on_both_backends, unique};
use serde_json::json;

on_both_backends!(
    numbers_past_every_limit_are_refused_cleanly,
    out_of_range_amounts_are_refused_by_name,
    years_dates_and_cursors_past_the_stores_range_are_refused,
);

/// Integers around the `i32`, `u32` and `i64` limits, as JSON text.
const LIMITS: [&str; 14] = [
    "0",
    "-1",
    "-0",
    "2147483647",
    "2147483648",
    "-2147483649",
    "4294967296",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "-9223372036854775809",
    "18446744073709551616",
    "340282366920938463463374607431768211456",
    "1e3",
];

/// Not integers, or not numbers at all, as JSON text.
const NOT_INTEGERS: [&str; 10] = [
    "1.5", "1.0", "-0.0", "1e400", "-1e-400", "0.1e1", "\"7\"", "true", "[]", "{}",
];

/// For a query or path parameter: text a lenient parser might read as a number.
const LOOKALIKES: [&str; 8] = ["+1", " 1", "0x10", "1_000", "", "\u{661}", "1%00", "NaN"];

/// Every value to try in a numeric input, with how to write it there.
fn values(input: &Input) -> Vec<String> {
    let digits = format!("1{}", "0".repeat(5_000));
    let numbers = LIMITS
        .iter()
        .chain(&NOT_INTEGERS)
        .map(|text| (*text).to_owned())
        .chain([digits]);
    match input.place {
        Place::Body => numbers.collect(),
        Place::Query | Place::Path => numbers
            .map(|text| encoded(text.trim_matches('"')))
            .chain(LOOKALIKES.iter().map(|text| {
                // `%00` stays a percent escape: it is what a NUL looks like on the wire.
                if text.contains('%') {
                    (*text).to_owned()
                } else {
                    encoded(text)
                }
            }))
            .collect(),
    }
}

async fn numbers_past_every_limit_are_refused_cleanly(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let document = Document::served(&app).await;
    let admin = unique("numbers");
    app.admin(&admin).await;
    let inputs: Vec<Input> = document
        .inputs()
        .into_iter()
        .filter(|input| input.kind == Kind::Integer)
        .collect();
    let names: Vec<&str> = inputs.iter().map(|input| input.name.as_str()).collect();
    for expected in [
        "amount",
        "price",
        "seats",
        "headcount",
        "seat_number",
        "limit",
    ] {
        assert!(names.contains(&expected), "{expected} in {names:?}");
    }
    // The ids of the API are UUIDs: numbers go into every path parameter too.
    let paths = document
        .inputs()
        .into_iter()
        .filter(|input| input.place == Place::Path);
    for input in inputs.iter().cloned().chain(paths) {
        let token = session(&app, &admin).await;
        let mut integer_values = values(&input);
        if input.kind == Kind::Text {
            integer_values.retain(|value| !value.is_empty());
        }
        for value in integer_values {
            let answer = app
                .send(document.request(&app, &input, &value).bearer_auth(&token))
                .await;
            document.assert_documented(&input, &value, &answer);
            let beyond_i64 = ["9223372036854775808", "-9223372036854775809", "1e400"]
                .contains(&value.as_str())
                || value.len() > 100;
            if input.kind == Kind::Integer && beyond_i64 {
                assert_eq!(
                    answer.status, 400,
                    "{input:?} = {value:.40}: {:#}",
                    answer.body
                );
            }
        }
    }
}

/// Past-the-limit values of the fields that move money or capacity are refused by name, with a
/// real resource behind the request so nothing else is what gets refused.
async fn out_of_range_amounts_are_refused_by_name(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = unique("amounts");
    let (admin_token, _) = app.admin(&admin).await;
    let (member, _, _) = app.member(&unique("payer")).await;
    for amount in [
        "0",
        "-1",
        "1000001",
        "9223372036854775807",
        "-9223372036854775808",
    ] {
        let body = format!(r#"{{"amount": {amount}}}"#);
        let request = app
            .client
            .post(app.url("/api/v1/wallet/charges"))
            .bearer_auth(&member)
            .header("content-type", "application/json")
            .body(body);
        let answer = app.send(request).await;
        assert_eq!(answer.status, 400, "charge {amount}: {:#}", answer.body);
        assert_eq!(
            answer.body["errors"][0]["field"], "amount",
            "{:#}",
            answer.body
        );
    }
    let wallet = app.get("/api/v1/wallet", Some(&member)).await;
    assert_eq!(wallet.body["balance"], 0, "{:#}", wallet.body);

    for price in [
        "-1",
        "100000001",
        "9223372036854775807",
        "-9223372036854775808",
    ] {
        let body = format!(
            r#"{{"title": "Price probe", "price": {price}, "starts_at": "2026-12-20T09:00:00+09:00", "ends_at": "2026-12-31T18:00:00+09:00"}}"#
        );
        let request = app
            .client
            .post(app.url("/api/v1/admin/tests"))
            .bearer_auth(&admin_token)
            .header("content-type", "application/json")
            .body(body);
        let answer = app.send(request).await;
        assert_eq!(answer.status, 400, "price {price}: {:#}", answer.body);
        assert_eq!(
            answer.body["errors"][0]["field"], "price",
            "{:#}",
            answer.body
        );
    }
    for headcount in ["0", "-1", "2147483648", "4294967297", "9223372036854775807"] {
        let body = format!(
            r#"{{"starts_at": "2026-12-20T14:00:00+09:00", "ends_at": "2026-12-20T16:00:00+09:00", "headcount": {headcount}}}"#
        );
        let request = app
            .client
            .post(app.url("/api/v1/exam-reservations"))
            .bearer_auth(&member)
            .header("content-type", "application/json")
            .body(body);
        let answer = app.send(request).await;
        assert_eq!(
            answer.status, 400,
            "headcount {headcount}: {:#}",
            answer.body
        );
        assert_eq!(
            answer.body["errors"][0]["field"], "headcount",
            "{:#}",
            answer.body
        );
    }
    let listed = app.get("/api/v1/exam-reservations", Some(&member)).await;
    assert_eq!(listed.body["items"], json!([]), "{:#}", listed.body);
    for limit in [
        "0",
        "-1",
        "101",
        "2147483648",
        "9223372036854775807",
        "9223372036854775808",
    ] {
        let answer = app
            .get(
                &format!("/api/v1/wallet/transactions?limit={limit}"),
                Some(&member),
            )
            .await;
        assert_eq!(answer.status, 400, "limit {limit}: {:#}", answer.body);
        assert_eq!(
            answer.body["errors"][0]["field"], "limit",
            "{:#}",
            answer.body
        );
    }
}

/// base64url without padding, as the API writes cursors.
fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut text = String::new();
    for chunk in bytes.chunks(3) {
        let word = chunk.iter().enumerate().fold(0_u32, |word, (n, byte)| {
            word | u32::from(*byte) << (16 - 8 * n)
        });
        for n in 0..=chunk.len() {
            text.push(char::from(ALPHABET[(word >> (18 - 6 * n) & 63) as usize]));
        }
    }
    text
}

/// Dates whose years PostgreSQL, SQLite's microsecond integers or chrono cannot all hold, and
/// cursors that decode to the extreme ids and sequence numbers.
async fn years_dates_and_cursors_past_the_stores_range_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let document = Document::served(&app).await;
    let admin = unique("years");
    app.admin(&admin).await;
    let dates = [
        "0000-01-01",
        "-0001-12-31",
        "-4714-11-23",
        "-262144-01-01",
        "+262143-12-31",
        "+275760-09-13",
        "99999-12-31",
        "9999-12-31",
        "1900-02-29",
        "2026-02-29",
        "2026-13-01",
        "2026-12-32",
        "20261210",
    ];
    let instants = [
        "9999-12-31T23:59:59.999999999+09:00",
        "+262143-12-31T23:59:59Z",
        "-262144-01-01T00:00:00Z",
        "0000-01-01T00:00:00Z",
        "1677-09-21T00:12:43Z",
        "2262-04-11T23:47:16.854775808Z",
        "2026-12-20T14:00:00+99:00",
        "2026-12-20T24:00:00+09:00",
        "2026-12-20T14:00:60+09:00",
        "2026-12-20T14:00:00",
        "9223372036854775807",
    ];
    let mut cursors: Vec<String> = [i64::MIN, -1, 0, i64::MAX]
        .iter()
        .map(|sequence| base64url(&sequence.to_be_bytes()))
        .collect();
    cursors.push(base64url(uuid::Uuid::nil().as_bytes()));
    cursors.push(base64url(uuid::Uuid::max().as_bytes()));
    cursors.push(base64url(&[0xff; 17]));
    cursors.push("not*base64".into());
    cursors.push("A".repeat(10_000));
    let mut tried = 0;
    for input in document.inputs() {
        let text_like = |name: &str| input.kind == Kind::Text && input.name == name;
        let values: Vec<String> = if input.format.as_deref() == Some("date") || text_like("date") {
            dates.iter().map(|date| encoded(date)).collect()
        } else if ["from", "to"].iter().any(|name| text_like(name)) {
            dates
                .iter()
                .chain(&instants)
                .map(|text| encoded(text))
                .collect()
        } else if ["starts_at", "ends_at"].iter().any(|name| text_like(name)) {
            instants
                .iter()
                .map(|text| json!(text).to_string())
                .collect()
        } else if text_like("cursor") {
            cursors.clone()
        } else {
            continue;
        };
        let token = session(&app, &admin).await;
        for value in values {
            tried += 1;
            let answer = app
                .send(document.request(&app, &input, &value).bearer_auth(&token))
                .await;
            document.assert_documented(&input, &value, &answer);
        }
    }
    assert!(tried > 100, "{tried} dates, instants and cursors");
}
