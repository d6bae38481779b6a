//! The wallet over HTTP on both backends: charges and their limits, transactions in pages, and
//! `Idempotency-Key` making a charge happen once however often and however concurrently it is
//! sent.

mod charges;
