//! Contracts of `CatalogRepository` and `RegistrationRepository` (with the `WalletRepository`
//! whose ledger carries the catalog's money): items, lists and search, the begin / settle / fail
//! steps of a gateway payment, wallet payments, completion and cancellation, the payment history,
//! the reconciler's queues, and the races that must never register a user twice, refund twice or
//! let a count drift, one file per concern, over the fixtures here.
//!
//! Users are real rows (payments, registrations and courses refer to them), made through the
//! account-store traits.

pub mod begin;
pub mod history;
pub mod items;
pub mod lists;
pub mod races;
pub mod registrations;
pub mod settlement;
pub mod wallet_payments;

use crate::accounts::AccountStore;
use crate::support::{new_user, now, tag};
use chrono::{DateTime, Duration, Utc};
use reserva_application::ports::catalog::{
    Begun, CatalogQuery, CatalogRepository, ListedItem, NewItem, PaymentIntent, PaymentQuery,
    RegistrationRepository, Settled,
};
use reserva_application::ports::wallet::{NewCharge, WalletRepository};
use reserva_domain::accounts::{Role, UserId};
use reserva_domain::catalog::{
    CatalogItem, CatalogSort, Category, CourseDetails, ItemDescription, ItemId, ItemKind,
    ItemTitle, Schedule, SearchText, SkillLevel,
};
use reserva_domain::paging::PageLimit;
use reserva_domain::wallet::{
    ChargeAmount, MAX_BALANCE, Money, Payment, PaymentId, PaymentMethod, TransferId,
};
use uuid::Uuid;

/// What a catalog store is: items, registrations and their payments, the wallet that pays for
/// them, and the users they belong to, in one store.
pub trait CatalogStore:
    CatalogRepository + RegistrationRepository + WalletRepository + AccountStore
{
}
impl<T: CatalogRepository + RegistrationRepository + WalletRepository + AccountStore + ?Sized>
    CatalogStore for T
{
}

/// The price of most items in these cases.
const PRICE: i64 = 30_000;

fn money(amount: i64) -> Money {
    Money::new(amount).unwrap_or_else(|e| panic!("{e}"))
}

fn title(text: &str) -> ItemTitle {
    ItemTitle::parse(text).unwrap_or_else(|e| panic!("{e}"))
}

fn search(text: &str) -> SearchText {
    SearchText::parse(text).unwrap_or_else(|e| panic!("{e}"))
}

fn limit(rows: i64) -> PageLimit {
    PageLimit::new(rows).unwrap_or_else(|e| panic!("{e:?}"))
}

/// A schedule open from a day before `at` to a day after it.
fn open_around(at: DateTime<Utc>) -> Schedule {
    Schedule::new(at - Duration::days(1), at + Duration::days(1)).unwrap_or_else(|e| panic!("{e}"))
}

/// A new user of `role`.
async fn user<S: CatalogStore>(store: &S, role: Role) -> UserId {
    match store
        .insert_user(new_user(&format!("cat{}", tag()), role))
        .await
    {
        Ok(user) => user.id,
        Err(error) => panic!("insert_user: {error}"),
    }
}

async fn member<S: CatalogStore>(store: &S) -> UserId {
    user(store, Role::Member).await
}

/// A test titled `text`, open around now, at `price`, created at `created_at`.
fn new_test(text: &str, price: i64, created_at: DateTime<Utc>) -> NewItem {
    NewItem {
        id: ItemId::from_uuid(Uuid::now_v7()),
        kind: ItemKind::Test,
        title: title(text),
        description: None,
        price: money(price),
        schedule: open_around(now()),
        course: None,
        now: created_at,
    }
}

/// A course titled `text` taught by `tutor`, open around now, at [`PRICE`].
fn new_course(text: &str, tutor: UserId) -> NewItem {
    NewItem {
        id: ItemId::from_uuid(Uuid::now_v7()),
        kind: ItemKind::Course,
        title: title(text),
        description: Some(
            ItemDescription::parse("A course of the conformance suite")
                .unwrap_or_else(|e| panic!("{e}")),
        ),
        price: money(PRICE),
        schedule: open_around(now()),
        course: Some(CourseDetails {
            category: Category::Python,
            skill_level: SkillLevel::Beginner,
            tutor_id: tutor,
        }),
        now: now(),
    }
}

async fn create<S: CatalogStore>(store: &S, item: NewItem) -> CatalogItem {
    store
        .create_item(item)
        .await
        .unwrap_or_else(|e| panic!("create_item: {e}"))
}

/// A test open now at `price`.
async fn open_test<S: CatalogStore>(store: &S, price: i64) -> CatalogItem {
    create(store, new_test(&format!("Test {}", tag()), price, now())).await
}

/// `user`'s intent to pay the item's price by `method`, now, under a fresh id.
fn intent(user: UserId, item: &CatalogItem, method: PaymentMethod) -> PaymentIntent {
    PaymentIntent {
        payment_id: PaymentId::from_uuid(Uuid::now_v7()),
        user_id: user,
        kind: item.kind,
        item_id: item.id,
        amount: item.price,
        method,
        now: now(),
    }
}

/// Begins a new gateway payment, failing the case unless it is new.
async fn begin<S: CatalogStore>(store: &S, intent: PaymentIntent) -> Payment {
    match store.begin_payment(intent).await {
        Ok(Begun::New(payment)) => payment,
        other => panic!("begin_payment: {other:?}"),
    }
}

/// Pays by card and settles: a paid gateway payment with its registration.
async fn paid_by_card<S: CatalogStore>(store: &S, user: UserId, item: &CatalogItem) -> Settled {
    let payment = begin(store, intent(user, item, PaymentMethod::Card)).await;
    store
        .settle_payment(payment.id, "ref-conformance", now())
        .await
        .unwrap_or_else(|e| panic!("settle_payment: {e:?}"))
}

/// Pays from the wallet, failing the case if it is refused.
async fn paid_from_wallet<S: CatalogStore>(store: &S, user: UserId, item: &CatalogItem) -> Settled {
    store
        .pay_from_wallet(intent(user, item, PaymentMethod::Wallet))
        .await
        .unwrap_or_else(|e| panic!("pay_from_wallet: {e:?}"))
}

/// Charges `amount` to `user`'s wallet.
async fn fund<S: CatalogStore>(store: &S, user: UserId, amount: i64) {
    let charge = NewCharge {
        transfer_id: TransferId::from_uuid(Uuid::now_v7()),
        user_id: user,
        amount: ChargeAmount::new(amount).unwrap_or_else(|e| panic!("{e}")),
        max_balance: MAX_BALANCE,
        now: now(),
    };
    if let Err(error) = store.charge(charge).await {
        panic!("charge: {error}");
    }
}

async fn balance<S: CatalogStore>(store: &S, user: UserId) -> i64 {
    store
        .balance(user)
        .await
        .unwrap_or_else(|e| panic!("balance: {e}"))
        .get()
}

/// The query of `viewer`'s list of `kind` in `sort` order, with nothing else set.
fn query(kind: ItemKind, viewer: UserId, sort: CatalogSort) -> CatalogQuery {
    CatalogQuery {
        kind,
        viewer,
        open_at: None,
        search: None,
        sort,
        after: None,
        limit: PageLimit::MAX_PAGE,
    }
}

async fn list<S: CatalogStore>(store: &S, query: CatalogQuery) -> Vec<ListedItem> {
    store
        .list_items(query)
        .await
        .unwrap_or_else(|e| panic!("list_items: {e}"))
}

/// The ids a list returns, in order.
async fn listed_ids<S: CatalogStore>(store: &S, query: CatalogQuery) -> Vec<ItemId> {
    list(store, query)
        .await
        .into_iter()
        .map(|listed| listed.item.id)
        .collect()
}

/// The item as `viewer` reads it.
async fn read<S: CatalogStore>(store: &S, item: &CatalogItem, viewer: UserId) -> ListedItem {
    store
        .item(item.kind, item.id, viewer)
        .await
        .unwrap_or_else(|e| panic!("item: {e}"))
        .unwrap_or_else(|| panic!("item {:?} not found", item.id))
}

/// `user`'s shown payments with nothing else set.
fn payments_of(user: UserId) -> PaymentQuery {
    PaymentQuery {
        user_id: user,
        status: None,
        kind: None,
        paid_from: None,
        paid_before: None,
        search: None,
        after: None,
        limit: PageLimit::MAX_PAGE,
    }
}

/// The ids of the payments a history query returns, in order.
async fn payment_ids<S: CatalogStore>(store: &S, query: PaymentQuery) -> Vec<PaymentId> {
    store
        .payments(query)
        .await
        .unwrap_or_else(|e| panic!("payments: {e}"))
        .into_iter()
        .map(|(payment, _)| payment.id)
        .collect()
}

/// Both audits find nothing wrong; returns the number of ledger transfers checked.
async fn assert_clean<S: CatalogStore>(store: &S) -> u64 {
    let catalog = store
        .verify_catalog()
        .await
        .unwrap_or_else(|e| panic!("verify_catalog: {e}"));
    assert!(catalog.violations.is_empty(), "{:#?}", catalog.violations);
    let ledger = store
        .verify_ledger()
        .await
        .unwrap_or_else(|e| panic!("verify_ledger: {e}"));
    assert!(ledger.violations.is_empty(), "{:#?}", ledger.violations);
    ledger.transfers_checked
}

/// The registered catalog-store cases by file, listed once: [`crate::catalog_store_tests!`]
/// expands them and the registration check compares them with the case files. Expands to
/// `$callback! { $args catalog { file: [case, ...], ... } }`.
#[doc(hidden)]
#[macro_export]
macro_rules! __catalog_store_cases {
    ($callback:path, $($args:tt)*) => {
        $callback! {
            $($args)*
            catalog {
                items: [
                    items_round_trip_and_update,
                    a_tutor_edits_only_their_own_courses,
                    a_deleted_item_is_hidden_and_closed_but_its_payments_cancel,
                ],
                lists: [
                    lists_in_created_and_popular_order,
                    keyset_pages_neither_skip_nor_repeat_while_rows_arrive,
                    the_open_filter_includes_both_ends,
                    search_is_the_and_of_its_words_in_any_case,
                    punctuation_finds_nothing_and_query_syntax_is_plain_text,
                    is_registered_is_the_viewers_and_ends_with_cancel,
                ],
                begin: [
                    begin_payment_checks_the_item,
                    a_live_place_refuses_a_second_apply,
                    a_reused_payment_id_is_existing_or_refused,
                    a_resumed_payment_is_not_failed_on_an_older_listing,
                ],
                wallet_payments: [
                    a_wallet_payment_moves_money_and_registers,
                    insufficient_balance_writes_nothing,
                    a_free_item_moves_no_money,
                    a_wallet_payment_retried_is_returned_as_it_stands,
                ],
                settlement: [
                    settle_is_idempotent_and_a_failed_payment_is_not_pending,
                    fail_frees_the_place,
                    gateway_money_is_in_the_ledger,
                    the_reconcilers_queues,
                ],
                registrations: [
                    complete_finishes_the_latest_registration,
                    a_completed_registration_cannot_be_cancelled,
                    cancel_refunds_the_wallet_and_re_apply_works,
                ],
                history: [
                    history_shows_only_own_paid_and_cancelled_payments,
                    history_filters,
                    history_pages_by_keyset,
                ],
                races: [
                    concurrent_identical_applies_begin_one_payment,
                    concurrent_identical_wallet_applies_pay_once,
                    concurrent_cancels_refund_once,
                    counts_equal_live_registrations_after_mixed_races,
                    concurrent_settles_of_many_buyers_count_each_once,
                    concurrent_begins_of_many_buyers_get_their_own_answers,
                    concurrent_begins_reusing_one_id_for_two_items,
                ],
            }
        }
    };
}
