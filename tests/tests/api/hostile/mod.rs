//! Hostile input over HTTP, on both backends: what a careless or malicious client can send and
//! what it is answered. Nothing here may answer 5xx, hang, or take a worker away from everyone
//! else. The inputs of the API are read from the OpenAPI document the server serves
//! ([`document`]), so an endpoint or field added later is swept too.
//!
//! - [`envelope`]: bodies over the size limit, huge and numerous headers, long URLs, deeply nested
//!   and malformed JSON, bytes that are not UTF-8 in the body, the query and the path;
//! - [`numbers`]: integers at and past the `i32`/`i64` limits, floats, exponents, `-0` and
//!   endless digit strings in every integer field and parameter, and out-of-range years, dates
//!   and cursors;
//! - [`text`]: SQL- and `LIKE`-looking strings and invisible characters in every text input, and
//!   searches whose `%`, `_` and `\` must match only themselves;
//! - [`connections`]: headers that trickle in, thousands of idle connections, and the connection
//!   cap.
//!
//! Control characters inside ordinary values are swept by `operations::hostile_input`, slow
//! bodies by `operations::hostile_clients`; this module does not repeat them.

mod connections;
mod document;
mod envelope;
mod numbers;
mod text;
