//! The black-box tests, in one test binary so the whole server is linked once: each test starts
//! the real server on port 0, on SQLite + memory and on PostgreSQL + Redis, and drives it over
//! HTTP. One module per product area (a folder once it outgrows a file of about 300 lines), the
//! shared harness in `helpers`; a new product area adds one module here.

#![expect(clippy::expect_used, reason = "a test fails loudly on the unexpected")]

mod accounts;
mod catalog;
mod commerce;
mod exams;
mod helpers;
mod hostile;
mod operations;
mod tickets;
mod wallet;
