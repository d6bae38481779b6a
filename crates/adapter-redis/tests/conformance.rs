//! The shared-state conformance suite, run against a real Redis (`TEST_REDIS_URL`, default
//! `redis://127.0.0.1:6379`). A missing Redis fails these tests; it does not skip them.

mod support;

reserva_conformance::shared_state_tests!(async { support::connect().await });
