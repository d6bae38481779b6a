//! Billing-address contracts: a round trip; the first address, or one marked default, is the
//! only default; partial edits that move the default but never away from it; deleting the
//! default promotes the newest remaining address; the cap; keyset pages; the address a checkout
//! copies; another user's addresses are absent; and the races: parallel default creates, a burst
//! over the cap, the default deleted while another address is created, the default moved from
//! several requests at once. After every case each user with addresses has exactly one default.

use crate::accounts::AccountStore;
use crate::support::{new_user, now, tag};
use chrono::{DateTime, Duration, Utc};
use reserva_application::ports::commerce::billing::{
    BillingAddressChanges, BillingAddressQuery, BillingAddressRepository,
    CreateBillingAddressError, NewBillingAddress, UpdateBillingAddressError,
};
use reserva_domain::accounts::{Role, UserId};
use reserva_domain::commerce::billing::{
    AddressFields, BILLING_ADDRESS_LIMIT, BillingAddress, BillingAddressCursor, BillingAddressId,
    Country, DetailAddress, InvalidAddressField, MainAddress, PostalCode,
};
use reserva_domain::paging::PageLimit;
use uuid::Uuid;

/// What a billing store is: the billing port and the users the addresses belong to.
pub trait BillingStore: BillingAddressRepository + AccountStore {}
impl<T: BillingAddressRepository + AccountStore + ?Sized> BillingStore for T {}

/// The registered billing-address cases, listed once: [`crate::commerce_billing_store_tests!`]
/// expands them and the registration check compares them with this file.
#[doc(hidden)]
#[macro_export]
macro_rules! __commerce_billing_store_cases {
    ($callback:path, $($args:tt)*) => {
        $callback! {
            $($args)*
            commerce {
                billing: [
                    addresses_round_trip_and_the_first_is_the_default,
                    a_new_default_replaces_the_previous_one,
                    edits_change_only_the_fields_sent,
                    an_edit_moves_the_default_but_never_away_from_it,
                    deleting_the_default_promotes_the_newest_remaining,
                    addresses_are_their_owners_only,
                    a_user_holds_at_most_the_limit,
                    keyset_pages_neither_skip_nor_repeat,
                    the_checkout_address_is_the_named_one_or_the_default,
                    concurrent_default_creates_leave_exactly_one_default,
                    a_burst_of_creates_stops_at_the_limit,
                    deleting_the_default_while_creating_leaves_exactly_one_default,
                    concurrent_default_moves_leave_exactly_one_default,
                ],
            }
        }
    };
}

async fn member<S: BillingStore>(store: &S) -> UserId {
    match store
        .insert_user(new_user(&format!("bill{}", tag()), Role::Member))
        .await
    {
        Ok(user) => user.id,
        Err(error) => panic!("insert_user: {error}"),
    }
}

fn valid<T>(parsed: Result<T, InvalidAddressField>) -> T {
    parsed.unwrap_or_else(|e| panic!("{e}"))
}

fn fields(main: &str) -> AddressFields {
    AddressFields {
        country: valid(Country::parse("대한민국")),
        main_address: valid(MainAddress::parse(main)),
        detail_address: valid(DetailAddress::parse("12F")),
        postal_code: valid(PostalCode::parse("06236")),
    }
}

fn new_address(user: UserId, main: &str, is_default: bool, at: DateTime<Utc>) -> NewBillingAddress {
    NewBillingAddress {
        id: BillingAddressId::from_uuid(Uuid::now_v7()),
        user_id: user,
        fields: fields(main),
        is_default,
        limit: BILLING_ADDRESS_LIMIT,
        now: at,
    }
}

async fn create<S: BillingStore>(
    store: &S,
    user: UserId,
    main: &str,
    is_default: bool,
    at: DateTime<Utc>,
) -> BillingAddress {
    store
        .create_billing_address(new_address(user, main, is_default, at))
        .await
        .unwrap_or_else(|e| panic!("create_billing_address: {e:?}"))
}

/// Every address of `user`, newest first.
async fn all<S: BillingStore>(store: &S, user: UserId) -> Vec<BillingAddress> {
    store
        .billing_addresses(BillingAddressQuery {
            user_id: user,
            after: None,
            limit: PageLimit::MAX_PAGE,
        })
        .await
        .unwrap_or_else(|e| panic!("billing_addresses: {e}"))
}

/// The ids of `user`'s defaults.
async fn defaults<S: BillingStore>(store: &S, user: UserId) -> Vec<BillingAddressId> {
    all(store, user)
        .await
        .into_iter()
        .filter(|address| address.is_default)
        .map(|address| address.id)
        .collect()
}

async fn read<S: BillingStore>(
    store: &S,
    user: UserId,
    id: BillingAddressId,
) -> Option<BillingAddress> {
    store
        .billing_address(user, id)
        .await
        .unwrap_or_else(|e| panic!("billing_address: {e}"))
}

fn changes(at: DateTime<Utc>) -> BillingAddressChanges {
    BillingAddressChanges {
        country: None,
        main_address: None,
        detail_address: None,
        postal_code: None,
        is_default: None,
        now: at,
    }
}

fn make_default(at: DateTime<Utc>) -> BillingAddressChanges {
    BillingAddressChanges {
        is_default: Some(true),
        ..changes(at)
    }
}

async fn delete<S: BillingStore>(store: &S, user: UserId, id: BillingAddressId) -> bool {
    store
        .delete_billing_address(user, id, now())
        .await
        .unwrap_or_else(|e| panic!("delete_billing_address: {e}"))
}

/// Addresses round trip and the first is the default.
pub async fn addresses_round_trip_and_the_first_is_the_default<S: BillingStore>(store: &S) {
    let user = member(store).await;
    let at = now();
    let first = create(store, user, "Teheran-ro 152", false, at).await;
    assert!(first.is_default, "the first address is the default");
    assert_eq!(
        (first.user_id, first.created_at, first.updated_at),
        (user, at, at)
    );
    assert_eq!(first.fields, fields("Teheran-ro 152"));
    assert_eq!(read(store, user, first.id).await, Some(first.clone()));
    let second = create(
        store,
        user,
        "Sejong-daero 110",
        false,
        at + Duration::seconds(1),
    )
    .await;
    assert!(!second.is_default);
    assert_eq!(
        all(store, user).await,
        [second.clone(), first.clone()],
        "newest first"
    );
    assert_eq!(defaults(store, user).await, [first.id]);
}

/// A new default replaces the previous one.
pub async fn a_new_default_replaces_the_previous_one<S: BillingStore>(store: &S) {
    let user = member(store).await;
    let first = create(store, user, "One", true, now()).await;
    let second = create(store, user, "Two", true, now() + Duration::seconds(1)).await;
    assert!(second.is_default);
    assert_eq!(defaults(store, user).await, [second.id]);
    let third = create(store, user, "Three", false, now() + Duration::seconds(2)).await;
    assert!(!third.is_default);
    assert_eq!(defaults(store, user).await, [second.id]);
    assert!(
        !read(store, user, first.id)
            .await
            .is_some_and(|a| a.is_default)
    );
}

/// Edits change only the fields sent.
pub async fn edits_change_only_the_fields_sent<S: BillingStore>(store: &S) {
    let user = member(store).await;
    let address = create(store, user, "Teheran-ro 152", false, now()).await;
    let later = now() + Duration::seconds(5);
    let edited = store
        .update_billing_address(
            user,
            address.id,
            BillingAddressChanges {
                detail_address: Some(DetailAddress::parse("").unwrap_or_else(|e| panic!("{e}"))),
                postal_code: Some(PostalCode::parse("SW1A 1AA").unwrap_or_else(|e| panic!("{e}"))),
                ..changes(later)
            },
        )
        .await
        .unwrap_or_else(|e| panic!("update_billing_address: {e:?}"));
    assert_eq!(edited.fields.detail_address.as_str(), "");
    assert_eq!(edited.fields.postal_code.as_str(), "SW1A 1AA");
    assert_eq!(edited.fields.country, address.fields.country);
    assert_eq!(edited.fields.main_address, address.fields.main_address);
    assert!(edited.is_default, "still the default");
    assert_eq!(
        (edited.created_at, edited.updated_at),
        (address.created_at, later)
    );
    assert_eq!(read(store, user, address.id).await, Some(edited.clone()));
    // Two edits of different fields both stay.
    let country = Country::parse("Japan").unwrap_or_else(|e| panic!("{e}"));
    let main = MainAddress::parse("Chiyoda 1-1").unwrap_or_else(|e| panic!("{e}"));
    let (a, b) = futures_util::future::join(
        store.update_billing_address(
            user,
            address.id,
            BillingAddressChanges {
                country: Some(country.clone()),
                ..changes(later)
            },
        ),
        store.update_billing_address(
            user,
            address.id,
            BillingAddressChanges {
                main_address: Some(main.clone()),
                ..changes(later)
            },
        ),
    )
    .await;
    assert!(a.is_ok() && b.is_ok(), "{a:?} {b:?}");
    let both = read(store, user, address.id)
        .await
        .unwrap_or_else(|| panic!("gone"));
    assert_eq!(
        (both.fields.country, both.fields.main_address),
        (country, main)
    );
    assert_eq!(both.fields.postal_code.as_str(), "SW1A 1AA");
}

/// An edit moves the default but never away from it.
pub async fn an_edit_moves_the_default_but_never_away_from_it<S: BillingStore>(store: &S) {
    let user = member(store).await;
    let first = create(store, user, "One", false, now()).await;
    let second = create(store, user, "Two", false, now() + Duration::seconds(1)).await;
    let moved = store
        .update_billing_address(user, second.id, make_default(now()))
        .await
        .unwrap_or_else(|e| panic!("update_billing_address: {e:?}"));
    assert!(moved.is_default);
    assert_eq!(defaults(store, user).await, [second.id]);
    // Asking the default to stop being it is refused, and nothing of the edit is written.
    let refused = store
        .update_billing_address(
            user,
            second.id,
            BillingAddressChanges {
                is_default: Some(false),
                main_address: Some(MainAddress::parse("Changed").unwrap_or_else(|e| panic!("{e}"))),
                ..changes(now())
            },
        )
        .await;
    assert_eq!(refused, Err(UpdateBillingAddressError::DefaultRequired));
    assert_eq!(read(store, user, second.id).await, Some(moved.clone()));
    // `false` on an address that is not the default changes nothing about the default; `true`
    // on the default keeps it.
    let kept = store
        .update_billing_address(
            user,
            first.id,
            BillingAddressChanges {
                is_default: Some(false),
                ..changes(now())
            },
        )
        .await
        .unwrap_or_else(|e| panic!("update_billing_address: {e:?}"));
    assert!(!kept.is_default);
    store
        .update_billing_address(user, second.id, make_default(now()))
        .await
        .unwrap_or_else(|e| panic!("update_billing_address: {e:?}"));
    assert_eq!(defaults(store, user).await, [second.id]);
    // A lone address is the default and stays it.
    let alone = member(store).await;
    let only = create(store, alone, "Only", false, now()).await;
    let refused = store
        .update_billing_address(
            alone,
            only.id,
            BillingAddressChanges {
                is_default: Some(false),
                ..changes(now())
            },
        )
        .await;
    assert_eq!(refused, Err(UpdateBillingAddressError::DefaultRequired));
    assert_eq!(defaults(store, alone).await, [only.id]);
}

/// Deleting the default promotes the newest remaining.
pub async fn deleting_the_default_promotes_the_newest_remaining<S: BillingStore>(store: &S) {
    let user = member(store).await;
    let at = now();
    let oldest = create(store, user, "Oldest", false, at).await;
    let middle = create(store, user, "Middle", false, at + Duration::seconds(1)).await;
    let newest = create(store, user, "Newest", false, at + Duration::seconds(2)).await;
    // Making the middle one default and deleting it: the newest (not the oldest) succeeds.
    store
        .update_billing_address(user, middle.id, make_default(at))
        .await
        .unwrap_or_else(|e| panic!("update_billing_address: {e:?}"));
    let deleted_at = at + Duration::seconds(30);
    assert!(
        store
            .delete_billing_address(user, middle.id, deleted_at)
            .await
            .unwrap_or_else(|e| panic!("delete_billing_address: {e}"))
    );
    let promoted = read(store, user, newest.id)
        .await
        .unwrap_or_else(|| panic!("newest gone"));
    assert!(promoted.is_default);
    assert_eq!(promoted.updated_at, deleted_at);
    assert_eq!(defaults(store, user).await, [newest.id]);
    // Deleting an address that is not the default leaves the default alone.
    assert!(delete(store, user, oldest.id).await);
    assert_eq!(defaults(store, user).await, [newest.id]);
    // The last one goes; then there is nothing, and a second delete finds nothing.
    assert!(delete(store, user, newest.id).await);
    assert!(all(store, user).await.is_empty());
    assert!(!delete(store, user, newest.id).await);
    // A new first address is the default again.
    let again = create(store, user, "Again", false, now()).await;
    assert!(again.is_default);
}

/// Addresses are their owners only.
pub async fn addresses_are_their_owners_only<S: BillingStore>(store: &S) {
    let owner = member(store).await;
    let other = member(store).await;
    let mine = create(store, owner, "Mine", false, now()).await;
    assert_eq!(read(store, other, mine.id).await, None);
    assert!(all(store, other).await.is_empty());
    assert_eq!(
        store
            .update_billing_address(other, mine.id, make_default(now()))
            .await,
        Err(UpdateBillingAddressError::NotFound)
    );
    assert_eq!(
        store
            .update_billing_address(
                owner,
                BillingAddressId::from_uuid(Uuid::now_v7()),
                changes(now())
            )
            .await,
        Err(UpdateBillingAddressError::NotFound)
    );
    assert!(!delete(store, other, mine.id).await);
    assert_eq!(
        store
            .checkout_billing_address(other, Some(mine.id))
            .await
            .unwrap_or_else(|e| panic!("checkout_billing_address: {e}")),
        None
    );
    // The other user's own first address is their default; the owner's stays theirs.
    let theirs = create(store, other, "Theirs", false, now()).await;
    assert!(theirs.is_default);
    assert_eq!(read(store, owner, mine.id).await, Some(mine.clone()));
    assert_eq!(defaults(store, owner).await, [mine.id]);
}

/// A user holds at most the limit.
pub async fn a_user_holds_at_most_the_limit<S: BillingStore>(store: &S) {
    let user = member(store).await;
    let capped = |main: &str| NewBillingAddress {
        limit: 2,
        ..new_address(user, main, false, now())
    };
    for main in ["One", "Two"] {
        store
            .create_billing_address(capped(main))
            .await
            .unwrap_or_else(|e| panic!("create_billing_address: {e:?}"));
    }
    assert_eq!(
        store.create_billing_address(capped("Three")).await,
        Err(CreateBillingAddressError::TooMany)
    );
    assert_eq!(all(store, user).await.len(), 2);
    // Another user's count is their own.
    let other = member(store).await;
    create(store, other, "Other", false, now()).await;
}

/// Keyset pages neither skip nor repeat.
pub async fn keyset_pages_neither_skip_nor_repeat<S: BillingStore>(store: &S) {
    let user = member(store).await;
    let at = now();
    let mut created = Vec::new();
    for i in 0..5 {
        created.push(
            create(
                store,
                user,
                &format!("No {i}"),
                false,
                at + Duration::seconds(i),
            )
            .await,
        );
    }
    // Two at the same instant: the id breaks the tie.
    created.push(create(store, user, "Tie", false, at + Duration::seconds(4)).await);
    let mut expected: Vec<_> = created
        .iter()
        .map(|address| (address.created_at, address.id))
        .collect();
    expected.sort_by(|a, b| b.cmp(a));
    let limit = PageLimit::new(2).unwrap_or_else(|e| panic!("{e}"));
    let mut after = None;
    let mut seen = Vec::new();
    for _ in 0..10 {
        let rows = store
            .billing_addresses(BillingAddressQuery {
                user_id: user,
                after,
                limit,
            })
            .await
            .unwrap_or_else(|e| panic!("billing_addresses: {e}"));
        assert!(rows.len() <= 3, "at most limit + 1 rows");
        let page: Vec<_> = rows.into_iter().take(2).collect();
        let Some(last) = page.last() else { break };
        after = Some(BillingAddressCursor::after(last));
        seen.extend(page.iter().map(|address| (address.created_at, address.id)));
    }
    assert_eq!(seen, expected);
}

/// The checkout address is the named one or the default.
pub async fn the_checkout_address_is_the_named_one_or_the_default<S: BillingStore>(store: &S) {
    let user = member(store).await;
    let checkout = |named| async move {
        store
            .checkout_billing_address(user, named)
            .await
            .unwrap_or_else(|e| panic!("checkout_billing_address: {e}"))
    };
    assert_eq!(checkout(None).await, None, "no address yet");
    let first = create(store, user, "First", false, now()).await;
    let second = create(store, user, "Second", false, now() + Duration::seconds(1)).await;
    assert_eq!(checkout(None).await.map(|a| a.id), Some(first.id));
    assert_eq!(checkout(Some(second.id)).await, Some(second.clone()));
    assert_eq!(
        checkout(Some(BillingAddressId::from_uuid(Uuid::now_v7()))).await,
        None
    );
}

/// Concurrent default creates leave exactly one default.
pub async fn concurrent_default_creates_leave_exactly_one_default<S: BillingStore>(store: &S) {
    let user = member(store).await;
    let attempts = (0..10).map(|i| {
        store.create_billing_address(new_address(user, &format!("Burst {i}"), true, now()))
    });
    let outcomes = futures_util::future::join_all(attempts).await;
    assert!(
        outcomes.iter().all(Result::is_ok),
        "every create is stored: {outcomes:?}"
    );
    assert_eq!(all(store, user).await.len(), 10);
    assert_eq!(defaults(store, user).await.len(), 1);
}

/// A burst of creates stops at the limit.
pub async fn a_burst_of_creates_stops_at_the_limit<S: BillingStore>(store: &S) {
    let user = member(store).await;
    // One address first, so that the burst's are not defaults: the default's unique index
    // cannot be what keeps the count.
    create(store, user, "First", false, now()).await;
    let attempts = (0..10).map(|i| {
        store.create_billing_address(NewBillingAddress {
            limit: 4,
            ..new_address(user, &format!("Burst {i}"), false, now())
        })
    });
    let outcomes = futures_util::future::join_all(attempts).await;
    let stored = outcomes.iter().filter(|outcome| outcome.is_ok()).count();
    let refused = outcomes
        .iter()
        .filter(|outcome| **outcome == Err(CreateBillingAddressError::TooMany))
        .count();
    assert_eq!((stored, refused), (3, 7), "{outcomes:?}");
    assert_eq!(all(store, user).await.len(), 4);
    assert_eq!(defaults(store, user).await.len(), 1);
}

/// Deleting the default while creating leaves exactly one default.
pub async fn deleting_the_default_while_creating_leaves_exactly_one_default<S: BillingStore>(
    store: &S,
) {
    let user = member(store).await;
    let mut default = create(store, user, "Start", false, now()).await;
    create(store, user, "Other", false, now()).await;
    for round in 0..5 {
        let (deleted, created) = futures_util::future::join(
            store.delete_billing_address(user, default.id, now()),
            store.create_billing_address(new_address(
                user,
                &format!("Round {round}"),
                false,
                now(),
            )),
        )
        .await;
        assert_eq!(deleted, Ok(true));
        assert!(created.is_ok(), "{created:?}");
        let left = defaults(store, user).await;
        assert_eq!(left.len(), 1, "round {round}: {left:?}");
        default = read(store, user, left[0])
            .await
            .unwrap_or_else(|| panic!("default gone"));
    }
    // And the last address deleted while a first one is created: that one is the default.
    let alone = member(store).await;
    let only = create(store, alone, "Only", false, now()).await;
    let (deleted, created) = futures_util::future::join(
        store.delete_billing_address(alone, only.id, now()),
        store.create_billing_address(new_address(alone, "New", false, now())),
    )
    .await;
    assert_eq!(deleted, Ok(true));
    let created = created.unwrap_or_else(|e| panic!("create_billing_address: {e:?}"));
    assert_eq!(defaults(store, alone).await, [created.id]);
}

/// Concurrent default moves leave exactly one default.
pub async fn concurrent_default_moves_leave_exactly_one_default<S: BillingStore>(store: &S) {
    let user = member(store).await;
    let mut ids = Vec::new();
    for i in 0..6 {
        ids.push(
            create(store, user, &format!("No {i}"), false, now())
                .await
                .id,
        );
    }
    let moves = ids
        .iter()
        .map(|id| store.update_billing_address(user, *id, make_default(now())));
    let outcomes = futures_util::future::join_all(moves).await;
    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
    assert_eq!(defaults(store, user).await.len(), 1);
}
