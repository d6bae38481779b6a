//! Black-box tests of the whole service live in `tests/api/`, one test binary: each test starts
//! the real server on port 0 (on SQLite + memory, and on PostgreSQL + Redis) and drives it over
//! HTTP. This library is empty; the shared harness is `tests/api/helpers/`.
