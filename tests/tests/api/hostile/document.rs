//! The inputs of the API, read from the OpenAPI document the server serves: every string and
//! integer property of every JSON request body, and every string and integer query and path
//! parameter. A request puts one hostile value into one input and ordinary values everywhere
//! else (the body's documented example where there is one), so the hostile value is what the
//! server has to deal with. Header parameters are left out: `Idempotency-Key` and `Queue-Token`
//! have their own rules and tests.

use crate::helpers::{Answer, TestApp};
use serde_json::{Map, Value, json};

/// Where an input is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Place {
    Body,
    Query,
    Path,
}

/// What an input holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Text,
    Integer,
}

/// One input of one operation.
#[derive(Debug, Clone)]
pub(super) struct Input {
    /// Lowercase, as the document keys it.
    pub(super) method: String,
    pub(super) path: String,
    pub(super) place: Place,
    pub(super) name: String,
    pub(super) kind: Kind,
    /// `uuid`, `email`, `date`, `int64`…
    pub(super) format: Option<String>,
}

/// Stands for the hostile value in a body until the body is written out.
const MARK: &str = "@@hostile@@";

/// The served document.
pub(super) struct Document(Value);

impl Document {
    pub(super) async fn served(app: &TestApp) -> Self {
        let answer = app.get("/api/openapi.json", None).await;
        assert_eq!(answer.status, 200);
        Self(answer.body)
    }

    fn resolve<'a>(&'a self, schema: &'a Value) -> &'a Value {
        match schema["$ref"].as_str() {
            Some(reference) => {
                let name = reference.trim_start_matches("#/components/schemas/");
                &self.0["components"]["schemas"][name]
            }
            None => schema,
        }
    }

    /// The schema with `$ref` followed and a nullable `oneOf`/`allOf` wrapper taken off.
    fn plain<'a>(&'a self, schema: &'a Value) -> &'a Value {
        let schema = self.resolve(schema);
        for wrapper in ["oneOf", "anyOf", "allOf"] {
            if let Some(member) = schema[wrapper]
                .as_array()
                .and_then(|members| members.iter().find(|member| member["type"] != "null"))
            {
                return self.plain(member);
            }
        }
        schema
    }

    fn kind(&self, schema: &Value) -> Option<Kind> {
        let schema = self.plain(schema);
        let has = |name: &str| {
            schema["type"] == name
                || schema["type"]
                    .as_array()
                    .is_some_and(|types| types.contains(&json!(name)))
        };
        if has("string") {
            Some(Kind::Text)
        } else if has("integer") {
            Some(Kind::Integer)
        } else {
            None
        }
    }

    fn input(&self, at: (&str, &str, Place), name: &str, schema: &Value) -> Option<Input> {
        let kind = self.kind(schema)?;
        let plain = self.plain(schema);
        Some(Input {
            method: at.0.to_owned(),
            path: at.1.to_owned(),
            place: at.2,
            name: name.to_owned(),
            kind,
            format: plain["format"].as_str().map(str::to_owned),
        })
    }

    fn body_schema<'a>(&'a self, operation: &'a Value) -> Option<&'a Value> {
        let body = &operation["requestBody"]["content"]["application/json"]["schema"];
        (!body.is_null()).then(|| self.resolve(body))
    }

    /// Every text and integer input the document lists.
    pub(super) fn inputs(&self) -> Vec<Input> {
        let mut inputs = Vec::new();
        let paths = self.0["paths"].as_object().expect("paths");
        for (path, operations) in paths {
            for (method, operation) in operations.as_object().expect("operations") {
                if let Some(body) = self.body_schema(operation) {
                    for (name, schema) in body["properties"].as_object().into_iter().flatten() {
                        let at = (method.as_str(), path.as_str(), Place::Body);
                        inputs.extend(self.input(at, name, schema));
                    }
                }
                for parameter in operation["parameters"].as_array().into_iter().flatten() {
                    let place = match parameter["in"].as_str() {
                        Some("query") => Place::Query,
                        Some("path") => Place::Path,
                        _ => continue,
                    };
                    let name = parameter["name"].as_str().expect("name");
                    let at = (method.as_str(), path.as_str(), place);
                    inputs.extend(self.input(at, name, &parameter["schema"]));
                }
            }
        }
        inputs
    }

    /// An ordinary value of `schema`'s type; `Null` for what may be left out.
    fn ordinary(&self, schema: &Value) -> Value {
        let schema = self.plain(schema);
        if let Some(example) = schema.get("example").filter(|example| !example.is_null()) {
            return example.clone();
        }
        if let Some(first) = schema["enum"].get(0) {
            return first.clone();
        }
        match (self.kind(schema), schema["format"].as_str()) {
            (Some(Kind::Text), Some("uuid")) => json!(uuid::Uuid::now_v7()),
            (Some(Kind::Text), Some("email")) => json!("ann@example.com"),
            (Some(Kind::Text), Some("date")) => json!("2026-12-10"),
            (Some(Kind::Text), _) => json!("plain"),
            (Some(Kind::Integer), _) => json!(1),
            (None, _) if schema["type"] == "array" => json!([]),
            (None, _) => Value::Null,
        }
    }

    fn operation(&self, input: &Input) -> &Value {
        &self.0["paths"][&input.path][&input.method]
    }

    /// An ordinary body of the operation: its documented example, with the required fields the
    /// example leaves empty filled in.
    fn ordinary_body(&self, schema: &Value) -> Map<String, Value> {
        let mut fields = schema["example"].as_object().cloned().unwrap_or_default();
        let required: Vec<&Value> = schema["required"]
            .as_array()
            .into_iter()
            .flatten()
            .collect();
        for (name, property) in schema["properties"].as_object().into_iter().flatten() {
            let missing = fields.get(name).is_none_or(Value::is_null);
            if missing && required.contains(&&json!(name)) {
                fields.insert(name.clone(), self.ordinary(property));
            }
        }
        fields.retain(|_, value| !value.is_null());
        fields
    }

    /// A request with `value` in `input`'s place, every other input ordinary. For a body field
    /// `value` is JSON text, written into the body as it is (so it may be a number serde_json
    /// could not hold); for a query or path parameter it is already percent-encoded.
    pub(super) fn request(
        &self,
        app: &TestApp,
        input: &Input,
        value: &str,
    ) -> reqwest::RequestBuilder {
        self.build(app, input, value, None)
    }

    /// A request to `input`'s operation, its parameters ordinary, with `body` as the whole body.
    pub(super) fn with_body(
        &self,
        app: &TestApp,
        input: &Input,
        body: &str,
    ) -> reqwest::RequestBuilder {
        let mut ordinary = input.clone();
        ordinary.place = Place::Body;
        self.build(app, &ordinary, "0", Some(body))
    }

    fn build(
        &self,
        app: &TestApp,
        input: &Input,
        value: &str,
        whole_body: Option<&str>,
    ) -> reqwest::RequestBuilder {
        let operation = self.operation(input);
        let mut path = input.path.clone();
        let mut query = Vec::new();
        for parameter in operation["parameters"].as_array().into_iter().flatten() {
            let name = parameter["name"].as_str().expect("name");
            let mine = |place| input.place == place && input.name == name;
            let ordinary = self.ordinary(&parameter["schema"]);
            let ordinary = ordinary.as_str().map_or(ordinary.to_string(), encoded);
            match parameter["in"].as_str() {
                Some("path") => {
                    let text = if mine(Place::Path) { value } else { &ordinary };
                    path = path.replace(&format!("{{{name}}}"), text);
                }
                Some("query") if mine(Place::Query) => query.push(format!("{name}={value}")),
                Some("query") if parameter["required"] == true => {
                    query.push(format!("{name}={ordinary}"));
                }
                _ => {}
            }
        }
        let mut url = app.url(&path);
        if !query.is_empty() {
            url = format!("{url}?{}", query.join("&"));
        }
        let method =
            reqwest::Method::from_bytes(input.method.to_uppercase().as_bytes()).expect("method");
        let mut request = app.client.request(method, url);
        if let Some(schema) = self.body_schema(operation) {
            let mut fields = self.ordinary_body(schema);
            if input.place == Place::Body {
                fields.insert(input.name.clone(), json!(MARK));
            }
            let body = whole_body.map_or_else(
                || {
                    Value::Object(fields)
                        .to_string()
                        .replacen(&format!("\"{MARK}\""), value, 1)
                },
                str::to_owned,
            );
            request = request
                .header("content-type", "application/json")
                .body(body);
        }
        request
    }

    /// No 5xx, and the status is one the document lists for the operation, with its content
    /// type.
    pub(super) fn assert_documented(&self, input: &Input, sent: &str, answer: &Answer) {
        let context = format!(
            "{} {} {:?} {} = {sent:.80}: {} {:#}",
            input.method, input.path, input.place, input.name, answer.status, answer.body
        );
        assert!(answer.status < 500, "{context}");
        let listed = &self.operation(input)["responses"][answer.status.to_string()];
        assert!(listed.is_object(), "undocumented status: {context}");
        if let Some(content_type) = answer.header("content-type") {
            assert!(
                listed["content"].get(content_type).is_some(),
                "documented without {content_type}: {context}"
            );
        }
    }
}

/// Percent-encodes every byte but ASCII letters and digits.
pub(super) fn encoded(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' => char::from(byte).to_string(),
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

/// A fresh administrator session: an accepted logout or a changed password ends the one before.
pub(super) async fn session(app: &TestApp, admin: &str) -> String {
    let login = app.login(admin, "secret123").await;
    assert_eq!(login.status, 200, "{:#}", login.body);
    login.body["access_token"]
        .as_str()
        .expect("token")
        .to_owned()
}
