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

/// A user, a test and a helper inserting a payment of it in `status`.
fn catalog_fixture(connection: &mut SqliteConnection) {
    connection
        .batch_execute(
            "INSERT INTO users VALUES ('u', 'u@example.com', 'u', 'h', 'member', 1, 0, 0); \
             INSERT INTO catalog_items (id, kind, title, price, starts_at, ends_at, created_at, \
                                        updated_at) \
                 VALUES ('i', 'test', 'Rust basics', 100, 0, 10, 0, 0);",
        )
        .unwrap();
}

fn catalog_payment(id: &str, status: &str) -> String {
    let paid_at = if status == "pending" || status == "failed" {
        "NULL"
    } else {
        "1"
    };
    format!(
        "INSERT INTO catalog_payments (id, user_id, kind, item_id, item_title, amount, method, \
                                       status, created_at, paid_at) \
         VALUES ('{id}', 'u', 'test', 'i', 'Rust basics', 100, 'card', '{status}', 0, {paid_at})"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_holds_one_live_place_per_item() {
    let file = TemporaryFile::migrated().await;
    let mut connection = connect(&file);
    catalog_fixture(&mut connection);
    connection
        .batch_execute(&catalog_payment("p1", "pending"))
        .unwrap();
    let (kind, message) = broken(connection.batch_execute(&catalog_payment("p2", "paid")));
    assert_eq!(kind, DatabaseErrorKind::UniqueViolation);
    assert!(
        message.contains("catalog_payments.user_id, catalog_payments.item_id"),
        "{message}"
    );
    // A failed payment frees the place.
    connection
        .batch_execute("UPDATE catalog_payments SET status = 'failed' WHERE id = 'p1'")
        .unwrap();
    connection
        .batch_execute(&catalog_payment("p2", "paid"))
        .unwrap();
    connection
        .batch_execute(
            "INSERT INTO catalog_registrations (id, payment_id, user_id, kind, item_id, status, \
                                                registered_at) \
             VALUES ('r2', 'p2', 'u', 'test', 'i', 'applied', 1)",
        )
        .unwrap();
    let (kind, message) = broken(connection.batch_execute(
        "INSERT INTO catalog_registrations (id, payment_id, user_id, kind, item_id, status, \
                                            registered_at) \
         VALUES ('r1', 'p1', 'u', 'test', 'i', 'completed', 1)",
    ));
    assert_eq!(kind, DatabaseErrorKind::UniqueViolation);
    assert!(
        message.contains("catalog_registrations.user_id, catalog_registrations.item_id"),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalog_rows_keep_their_checks() {
    let file = TemporaryFile::migrated().await;
    let mut connection = connect(&file);
    catalog_fixture(&mut connection);
    let (kind, message) = broken(
        connection.batch_execute("UPDATE catalog_items SET registration_count = -1 WHERE id = 'i'"),
    );
    assert_eq!(kind, DatabaseErrorKind::CheckViolation);
    assert!(
        message.contains("catalog_items_count_not_negative"),
        "{message}"
    );
    let (kind, message) =
        broken(connection.batch_execute("UPDATE catalog_items SET ends_at = 0 WHERE id = 'i'"));
    assert_eq!(kind, DatabaseErrorKind::CheckViolation);
    assert!(
        message.contains("catalog_items_schedule_ordered"),
        "{message}"
    );
    let (kind, _) = broken(
        connection.batch_execute("UPDATE catalog_items SET category = 'AWS' WHERE id = 'i'"),
    );
    assert_eq!(kind, DatabaseErrorKind::CheckViolation);
    // A paid payment needs its paid_at.
    let (kind, _) = broken(connection.batch_execute(
        "INSERT INTO catalog_payments (id, user_id, kind, item_id, item_title, amount, method, \
                                       status, created_at) \
         VALUES ('p', 'u', 'test', 'i', 'Rust basics', 100, 'card', 'paid', 0)",
    ));
    assert_eq!(kind, DatabaseErrorKind::CheckViolation);
}

#[derive(QueryableByName)]
struct Found {
    #[diesel(sql_type = diesel::sql_types::Text)]
    id: String,
}

fn search(connection: &mut SqliteConnection, query: &str) -> Vec<String> {
    diesel::sql_query(
        "SELECT i.id FROM catalog_items i \
         WHERE i.seq IN (SELECT rowid FROM catalog_items_search \
                         WHERE catalog_items_search MATCH ?) ORDER BY i.id",
    )
    .bind::<diesel::sql_types::Text, _>(query)
    .load::<Found>(connection)
    .unwrap()
    .into_iter()
    .map(|found| found.id)
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_search_index_follows_inserts_edits_and_deletes() {
    let file = TemporaryFile::migrated().await;
    let mut connection = connect(&file);
    catalog_fixture(&mut connection);
    let integrity = "INSERT INTO catalog_items_search (catalog_items_search) \
                     VALUES ('integrity-check')";
    assert_eq!(search(&mut connection, "\"rust\""), ["i"]);
    connection
        .batch_execute(
            "UPDATE catalog_items SET title = 'Go basics', description = 'Channels' \
             WHERE id = 'i'",
        )
        .unwrap();
    connection.batch_execute(integrity).unwrap();
    assert!(search(&mut connection, "\"rust\"").is_empty());
    assert_eq!(search(&mut connection, "\"channels\" AND \"go\""), ["i"]);
    // An edit of other columns leaves the index alone.
    connection
        .batch_execute("UPDATE catalog_items SET price = 200 WHERE id = 'i'")
        .unwrap();
    connection.batch_execute(integrity).unwrap();
    connection
        .batch_execute("DELETE FROM catalog_items WHERE id = 'i'")
        .unwrap();
    connection.batch_execute(integrity).unwrap();
    assert!(search(&mut connection, "\"go\"").is_empty());
}
