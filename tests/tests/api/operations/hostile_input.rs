//! Hostile characters in every text input, on both backends. The inputs are read from the OpenAPI
//! document the server serves, so a field or parameter added later is covered without touching
//! this file: every string property of every JSON request body, and every string query and path
//! parameter. (Header parameters are left out: HTTP cannot carry these characters in a header,
//! and the `Idempotency-Key` rule refuses anything but visible ASCII.)
//!
//! Each input gets a control character (U+0000, U+0007) and an invisible one (U+202E, U+200B,
//! U+FEFF, U+2028) inside an otherwise ordinary value, every other input left ordinary:
//!
//! - a control character is a 400 problem+json everywhere, naming the input with the field code
//!   `control_character` (a body field whose schema is an enum is refused by value instead);
//! - an invisible character in an e-mail address (`format: email`) is a 400 naming it with
//!   `invisible_character`;
//! - in any other input it may be accepted, but never answers 5xx.
//!
//! Every answer's status must be one the document lists for the operation, with its content type.

use crate::helpers::{Answer, Backend, TestApp, on_both_backends, unique};
use serde_json::{Map, Value, json};

on_both_backends!(hostile_characters_are_refused_in_every_text_input);

const CONTROL: [char; 2] = ['\u{0}', '\u{7}'];
const INVISIBLE: [char; 4] = ['\u{202e}', '\u{200b}', '\u{feff}', '\u{2028}'];

/// Where an input is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Body,
    Query,
    Path,
}

/// One text input of one operation.
#[derive(Debug, Clone)]
struct Input {
    method: String,
    path: String,
    place: Place,
    name: String,
    /// `format: email`: invisible characters are refused too.
    email: bool,
    /// Refused by value (an enum), so no field code is promised.
    by_value: bool,
    /// An ordinary value to put the hostile character into.
    ordinary: String,
}

fn resolve<'a>(document: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(reference) => {
            let name = reference.trim_start_matches("#/components/schemas/");
            &document["components"]["schemas"][name]
        }
        None => schema,
    }
}

fn is_string(schema: &Value) -> bool {
    schema["type"] == "string"
        || schema["type"]
            .as_array()
            .is_some_and(|types| types.contains(&json!("string")))
}

/// An ordinary value of `schema`'s type (its example, or its first choice, when it has one).
fn ordinary(document: &Value, schema: &Value) -> Value {
    let schema = resolve(document, schema);
    if let Some(example) = schema.get("example") {
        return example.clone();
    }
    if let Some(first) = schema["enum"].get(0) {
        return first.clone();
    }
    match schema["format"].as_str() {
        Some("uuid") => return json!(uuid::Uuid::now_v7()),
        Some("email") => return json!("ann@example.com"),
        _ => {}
    }
    if is_string(schema) {
        json!("plain")
    } else if schema["type"] == "integer" {
        json!(1)
    } else if schema["type"] == "boolean" {
        json!(true)
    } else if schema["type"] == "array" {
        // A list of one ordinary item (a required list of ids, say).
        json!([ordinary(document, &schema["items"])])
    } else {
        // Optional numbers and flags (`["integer", "null"]`): left out.
        Value::Null
    }
}

fn input(document: &Value, at: (&str, &str, Place), name: &str, schema: &Value) -> Option<Input> {
    let resolved = resolve(document, schema);
    if !is_string(resolved) {
        return None;
    }
    let ordinary = ordinary(document, schema);
    Some(Input {
        method: at.0.to_uppercase(),
        path: at.1.to_owned(),
        place: at.2,
        name: name.to_owned(),
        email: resolved["format"] == "email",
        by_value: at.2 == Place::Body && resolved.get("enum").is_some(),
        ordinary: ordinary.as_str().unwrap_or("plain").to_owned(),
    })
}

/// Every text input the document lists.
fn text_inputs(document: &Value) -> Vec<Input> {
    let mut inputs = Vec::new();
    let paths = document["paths"].as_object().expect("paths");
    for (path, operations) in paths {
        for (method, operation) in operations.as_object().expect("operations") {
            let body = &operation["requestBody"]["content"]["application/json"]["schema"];
            let body = resolve(document, body);
            for (name, schema) in body["properties"].as_object().into_iter().flatten() {
                let at = (method.as_str(), path.as_str(), Place::Body);
                inputs.extend(input(document, at, name, schema));
            }
            for parameter in operation["parameters"].as_array().into_iter().flatten() {
                let place = match parameter["in"].as_str() {
                    Some("query") => Place::Query,
                    Some("path") => Place::Path,
                    _ => continue,
                };
                let name = parameter["name"].as_str().expect("name");
                let at = (method.as_str(), path.as_str(), place);
                inputs.extend(input(document, at, name, &parameter["schema"]));
            }
        }
    }
    inputs
}

/// Percent-encodes every byte but ASCII letters and digits.
fn encoded(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' => char::from(byte).to_string(),
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

/// `value` in `input`'s place, every other input of the operation ordinary.
fn request(app: &TestApp, document: &Value, input: &Input, value: &str) -> reqwest::RequestBuilder {
    let operation = &document["paths"][&input.path][input.method.to_lowercase()];
    let mut path = input.path.clone();
    let mut query = Vec::new();
    for parameter in operation["parameters"].as_array().into_iter().flatten() {
        let name = parameter["name"].as_str().expect("name");
        let mine = |place| input.place == place && input.name == name;
        let ordinary = ordinary(document, &parameter["schema"]);
        let ordinary = ordinary
            .as_str()
            .map_or(ordinary.to_string(), str::to_owned);
        match parameter["in"].as_str() {
            Some("path") => {
                let text = if mine(Place::Path) { value } else { &ordinary };
                path = path.replace(&format!("{{{name}}}"), &encoded(text));
            }
            Some("query") if mine(Place::Query) => {
                query.push((name.to_owned(), value.to_owned()));
            }
            Some("query") if parameter["required"] == true => {
                query.push((name.to_owned(), ordinary));
            }
            _ => {}
        }
    }
    let method = reqwest::Method::from_bytes(input.method.as_bytes()).expect("method");
    let mut request = app.client.request(method, app.url(&path)).query(&query);
    let body = &operation["requestBody"]["content"]["application/json"]["schema"];
    if !body.is_null() {
        let schema = resolve(document, body);
        let mut fields = Map::new();
        for (name, property) in schema["properties"].as_object().into_iter().flatten() {
            fields.insert(name.clone(), ordinary(document, property));
        }
        if input.place == Place::Body {
            fields.insert(input.name.clone(), json!(value));
        }
        request = request.json(&Value::Object(fields));
    }
    request
}

/// The answer is listed in the document for the operation, with the content type it came with.
fn assert_documented(document: &Value, input: &Input, answer: &Answer) {
    let operation = &document["paths"][&input.path][input.method.to_lowercase()];
    let listed = &operation["responses"][answer.status.to_string()];
    assert!(
        listed.is_object(),
        "{input:?}: {} is not documented",
        answer.status
    );
    if let Some(content_type) = answer.header("content-type") {
        assert!(
            listed["content"].get(content_type).is_some(),
            "{input:?}: {} documented without {content_type}",
            answer.status
        );
    }
}

fn assert_refused(input: &Input, hostile: char, answer: &Answer, code: &str) {
    let context = format!("{input:?} with {hostile:?}: {:#}", answer.body);
    assert_eq!(answer.status, 400, "{context}");
    assert_eq!(
        answer.header("content-type"),
        Some("application/problem+json"),
        "{context}"
    );
    if input.by_value {
        return;
    }
    let errors = answer.body["errors"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let named = errors
        .iter()
        .any(|error| error["field"] == input.name.as_str() && error["code"] == code);
    assert!(named, "{code} on {} expected: {context}", input.name);
}

async fn hostile_characters_are_refused_in_every_text_input(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let document = app.get("/api/openapi.json", None).await.body;
    let inputs = text_inputs(&document);
    let places = |place| inputs.iter().filter(|input| input.place == place).count();
    assert!(places(Place::Body) >= 10 && places(Place::Query) >= 5 && places(Place::Path) >= 5);
    let admin = unique("hostile");
    app.admin(&admin).await;
    for input in &inputs {
        // A fresh session per input: an accepted logout ends the one it is sent with.
        let login = app.login(&admin, "secret123").await;
        let token = login.body["access_token"]
            .as_str()
            .expect("token")
            .to_owned();
        for hostile in CONTROL.into_iter().chain(INVISIBLE) {
            let mut value: Vec<char> = input.ordinary.chars().collect();
            value.insert(value.len() / 2, hostile);
            let value: String = value.into_iter().collect();
            let request = request(&app, &document, input, &value).bearer_auth(&token);
            let answer = app.send(request).await;
            if CONTROL.contains(&hostile) {
                assert_refused(input, hostile, &answer, "control_character");
            } else if input.email {
                assert_refused(input, hostile, &answer, "invisible_character");
            } else {
                assert!(
                    answer.status < 500,
                    "{input:?} {hostile:?}: {:#}",
                    answer.body
                );
            }
            assert_documented(&document, input, &answer);
        }
    }
    assert!(
        inputs.iter().any(|input| input.email),
        "e-mail fields are marked"
    );
}
