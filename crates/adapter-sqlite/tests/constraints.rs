//! The database's own backstops for the tickets and wallet rules, and the messages SQLite gives
//! when one is broken: the store maps those messages to refusals, so they are pinned here.
#![expect(clippy::unwrap_used)] // test helpers fail loudly

mod support;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as QueryError};
use support::TemporaryFile;

fn connect(file: &TemporaryFile) -> SqliteConnection {
    let mut connection = SqliteConnection::establish(file.path.to_str().unwrap()).unwrap();
    connection
        .batch_execute("PRAGMA foreign_keys = ON")
        .unwrap();
    connection
}

fn broken(result: QueryResult<()>) -> (DatabaseErrorKind, String) {
    match result {
        Err(QueryError::DatabaseError(kind, info)) => (kind, info.message().to_owned()),
        other => panic!("expected a constraint violation, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wallet_cannot_go_negative() {
    let file = TemporaryFile::migrated().await;
    let mut connection = connect(&file);
    connection
        .batch_execute(
            "INSERT INTO ledger_accounts (id, kind, owner, balance) VALUES ('a', 'user_wallet', 'u', 5); \
             INSERT INTO ledger_accounts (id, kind, owner, balance) VALUES ('f', 'funding', 'n', NULL);",
        )
        .unwrap();
    let (kind, message) =
        broken(connection.batch_execute("UPDATE ledger_accounts SET balance = -1 WHERE id = 'a'"));
    assert_eq!(kind, DatabaseErrorKind::CheckViolation);
    assert!(
        message.contains("ledger_accounts_wallet_balance_check"),
        "{message}"
    );
    let (kind, _) = broken(connection.batch_execute(
        "INSERT INTO ledger_accounts (id, kind, owner, balance) VALUES ('b', 'user_wallet', 'u', 0)",
    ));
    assert_eq!(kind, DatabaseErrorKind::UniqueViolation);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seat_is_sold_at_most_once() {
    let file = TemporaryFile::migrated().await;
    let mut connection = connect(&file);
    connection
        .batch_execute(
            "INSERT INTO concerts VALUES ('c', 'Title', 10, 0); \
             INSERT INTO performances VALUES ('p', 'c', 100, '2030-01-01', 10, NULL); \
             INSERT INTO seat_holds VALUES ('h1', 'p', 'c', 1, 'u1', 10, 'paid', 0, 50); \
             INSERT INTO seat_holds VALUES ('h2', 'p', 'c', 1, 'u2', 10, 'paid', 0, 50); \
             INSERT INTO bookings VALUES ('b1', 'h1', 'p', 'c', 1, 'u1', 10, 't1', 'confirmed', 1, NULL);",
        )
        .unwrap();
    let second = "INSERT INTO bookings VALUES ('b2', 'h2', 'p', 'c', 1, 'u2', 10, 't2', 'confirmed', 2, NULL)";
    let (kind, message) = broken(connection.batch_execute(second));
    assert_eq!(kind, DatabaseErrorKind::UniqueViolation);
    assert!(
        message.contains("bookings.performance_id, bookings.seat_number"),
        "{message}"
    );
    // Once refunded, the seat can be sold again.
    connection
        .batch_execute("UPDATE bookings SET status = 'refunded', refunded_at = 3 WHERE id = 'b1'")
        .unwrap();
    connection.batch_execute(second).unwrap();
}
