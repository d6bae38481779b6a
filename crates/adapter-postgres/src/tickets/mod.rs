//! `ConcertRepository` and `SeatHoldRepository` on PostgreSQL.
//!
//! The seat rows guard the seats and the claim rows guard "one per user, concert and date":
//! a hold is one statement ([`holds`]), a payment and a cancel one transaction each
//! ([`payments`], [`cancellation`]), with money moved by the wallet module's posting inside the
//! same transaction. Every write locks in one order — performance, hold, claim, seat, wallet —
//! so racing writes queue instead of deadlocking.

mod audit;
mod cancellation;
mod concerts;
mod holds;
mod payments;
mod repository;
mod rows;
