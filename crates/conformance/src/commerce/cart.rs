//! Cart contracts: current titles and prices, one line per item (under a race too), what cannot
//! be added (unknown, deleted, not a course, owned, over the cap), and removing.

use super::{
    ShoppingStore, add, bought, cart_of, course, curriculum, member, money, new_line, test_item,
};
use crate::support::now;
use chrono::Duration;
use reserva_application::ports::catalog::{ItemScope, ItemUpdate};
use reserva_application::ports::commerce::cart::AddToCartError;
use reserva_domain::catalog::{ItemId, ItemKind, ItemTitle};
use reserva_domain::commerce::{CartItemId, CurriculumId, ItemRef};
use uuid::Uuid;

/// A cart shows current titles and prices oldest first.
pub async fn a_cart_shows_current_titles_and_prices_oldest_first<S: ShoppingStore>(store: &S) {
    let buyer = member(store).await;
    let first = course(store, 10_000).await;
    let second = course(store, 5_000).await;
    let bundle = curriculum(store, 12_000, &[second.id]).await;
    let a = add(store, buyer, ItemRef::Course(first.id)).await;
    let b = add(store, buyer, ItemRef::Curriculum(bundle)).await;
    assert_eq!(
        (a.title.as_str(), a.price),
        (first.title.as_str(), money(10_000))
    );
    assert_eq!(b.price, money(12_000));
    store
        .update_item(
            ItemKind::Course,
            first.id,
            ItemScope::Any,
            ItemUpdate {
                title: ItemTitle::parse("Renamed").unwrap_or_else(|e| panic!("{e}")),
                description: None,
                price: money(11_000),
                schedule: first.schedule,
                course: first.course,
                now: now(),
            },
        )
        .await
        .unwrap_or_else(|e| panic!("update_item: {e}"));
    let cart = cart_of(store, buyer).await;
    let shown: Vec<_> = cart
        .iter()
        .map(|line| (line.id, line.item, line.title.clone(), line.price))
        .collect();
    assert_eq!(
        shown,
        [
            (
                a.id,
                ItemRef::Course(first.id),
                "Renamed".to_owned(),
                money(11_000)
            ),
            (
                b.id,
                ItemRef::Curriculum(bundle),
                b.title.clone(),
                money(12_000)
            ),
        ]
    );
    // A course deleted since it was added is no longer shown (it cannot be bought).
    store
        .delete_item(ItemKind::Course, first.id, ItemScope::Any, now())
        .await
        .unwrap_or_else(|e| panic!("delete_item: {e}"));
    let cart = cart_of(store, buyer).await;
    assert_eq!(cart.iter().map(|line| line.id).collect::<Vec<_>>(), [b.id]);
    assert!(cart_of(store, member(store).await).await.is_empty());
}

/// An item is in a cart once.
pub async fn an_item_is_in_a_cart_once<S: ShoppingStore>(store: &S) {
    let buyer = member(store).await;
    let item = course(store, 10_000).await;
    let bundle = curriculum(store, 12_000, &[item.id]).await;
    add(store, buyer, ItemRef::Course(item.id)).await;
    add(store, buyer, ItemRef::Curriculum(bundle)).await;
    for again in [ItemRef::Course(item.id), ItemRef::Curriculum(bundle)] {
        assert_eq!(
            store.add_to_cart(new_line(buyer, again)).await,
            Err(AddToCartError::AlreadyInCart)
        );
    }
    // Another user's cart is their own.
    add(store, member(store).await, ItemRef::Course(item.id)).await;
    assert_eq!(cart_of(store, buyer).await.len(), 2);
}

/// Unknown deleted and non course items are not found.
pub async fn unknown_deleted_and_non_course_items_are_not_found<S: ShoppingStore>(store: &S) {
    let buyer = member(store).await;
    let deleted = course(store, 1_000).await;
    store
        .delete_item(ItemKind::Course, deleted.id, ItemScope::Any, now())
        .await
        .unwrap_or_else(|e| panic!("delete_item: {e}"));
    let kept = course(store, 1_000).await;
    let gone = curriculum(store, 1_000, &[kept.id]).await;
    store
        .delete_curriculum(gone, ItemScope::Any, now())
        .await
        .unwrap_or_else(|e| panic!("delete_curriculum: {e}"));
    let a_test = test_item(store, 1_000).await;
    for item in [
        ItemRef::Course(ItemId::from_uuid(Uuid::now_v7())),
        ItemRef::Curriculum(CurriculumId::from_uuid(Uuid::now_v7())),
        ItemRef::Course(deleted.id),
        ItemRef::Curriculum(gone),
        ItemRef::Course(a_test.id),
    ] {
        assert_eq!(
            store.add_to_cart(new_line(buyer, item)).await,
            Err(AddToCartError::NotFound),
            "{item:?}"
        );
    }
    assert!(cart_of(store, buyer).await.is_empty());
}

/// Owned items are refused and a curriculum is owned when every course is.
pub async fn owned_items_are_refused_and_a_curriculum_is_owned_when_every_course_is<
    S: ShoppingStore,
>(
    store: &S,
) {
    let buyer = member(store).await;
    let (a, b) = (course(store, 1_000).await, course(store, 1_000).await);
    let both = curriculum(store, 1_500, &[a.id, b.id]).await;
    let only_a = curriculum(store, 900, &[a.id]).await;
    bought(store, buyer, &[ItemRef::Course(a.id)], now()).await;
    for owned in [ItemRef::Course(a.id), ItemRef::Curriculum(only_a)] {
        assert_eq!(
            store.add_to_cart(new_line(buyer, owned)).await,
            Err(AddToCartError::AlreadyOwned),
            "{owned:?}"
        );
    }
    // B is not owned, so neither is the curriculum of A and B.
    add(store, buyer, ItemRef::Curriculum(both)).await;
    // Access that expired (paid 730 days ago) or was refunded owns nothing.
    let expired = member(store).await;
    bought(
        store,
        expired,
        &[ItemRef::Course(b.id)],
        now() - Duration::days(730),
    )
    .await;
    add(store, expired, ItemRef::Course(b.id)).await;
    let refunded = member(store).await;
    let order = bought(store, refunded, &[ItemRef::Course(b.id)], now()).await;
    store.refund_order(order.id, now()).await;
    add(store, refunded, ItemRef::Course(b.id)).await;
}

/// The cart holds at most its limit.
pub async fn the_cart_holds_at_most_its_limit<S: ShoppingStore>(store: &S) {
    let buyer = member(store).await;
    let line = |item| {
        let mut new = new_line(buyer, item);
        new.limit = 2;
        new
    };
    for _ in 0..2 {
        let item = ItemRef::Course(course(store, 100).await.id);
        store
            .add_to_cart(line(item))
            .await
            .unwrap_or_else(|e| panic!("add_to_cart: {e:?}"));
    }
    let third = ItemRef::Course(course(store, 100).await.id);
    assert_eq!(
        store.add_to_cart(line(third)).await,
        Err(AddToCartError::CartFull)
    );
    assert_eq!(cart_of(store, buyer).await.len(), 2);
}

/// Lines of a deleted course or curriculum, hidden from the cart, hold no place under its limit:
/// a full cart whose items were deleted takes new ones again.
pub async fn hidden_lines_of_deleted_items_do_not_fill_the_cart<S: ShoppingStore>(store: &S) {
    let buyer = member(store).await;
    let line = |item| {
        let mut new = new_line(buyer, item);
        new.limit = 2;
        new
    };
    let gone = course(store, 100).await;
    let inside = course(store, 100).await;
    let bundle = curriculum(store, 100, &[inside.id]).await;
    for item in [ItemRef::Course(gone.id), ItemRef::Curriculum(bundle)] {
        store
            .add_to_cart(line(item))
            .await
            .unwrap_or_else(|e| panic!("add_to_cart: {e:?}"));
    }
    let next = ItemRef::Course(course(store, 100).await.id);
    assert_eq!(
        store.add_to_cart(line(next)).await,
        Err(AddToCartError::CartFull)
    );
    let deleted = store
        .delete_item(ItemKind::Course, gone.id, ItemScope::Any, now())
        .await
        .unwrap_or_else(|e| panic!("delete_item: {e}"));
    assert!(deleted);
    assert!(
        store
            .delete_curriculum(bundle, ItemScope::Any, now())
            .await
            .unwrap_or_else(|e| panic!("delete_curriculum: {e}"))
    );
    assert!(cart_of(store, buyer).await.is_empty(), "hidden lines");
    store
        .add_to_cart(line(next))
        .await
        .unwrap_or_else(|e| panic!("hidden lines hold no place: {e:?}"));
    let last = ItemRef::Course(course(store, 100).await.id);
    store
        .add_to_cart(line(last))
        .await
        .unwrap_or_else(|e| panic!("hidden lines hold no place: {e:?}"));
    let shown: Vec<ItemRef> = cart_of(store, buyer)
        .await
        .iter()
        .map(|line| line.item)
        .collect();
    assert_eq!(shown, [next, last]);
}

/// A line is removed by its owner only.
pub async fn a_line_is_removed_by_its_owner_only<S: ShoppingStore>(store: &S) {
    let buyer = member(store).await;
    let other = member(store).await;
    let item = course(store, 100).await;
    let line = add(store, buyer, ItemRef::Course(item.id)).await;
    let removed = |user, id| async move {
        store
            .remove_from_cart(user, id)
            .await
            .unwrap_or_else(|e| panic!("remove_from_cart: {e}"))
    };
    assert!(!removed(other, line.id).await);
    assert!(!removed(buyer, CartItemId::from_uuid(Uuid::now_v7())).await);
    assert_eq!(cart_of(store, buyer).await.len(), 1);
    assert!(removed(buyer, line.id).await);
    assert!(!removed(buyer, line.id).await);
    assert!(cart_of(store, buyer).await.is_empty());
    // Removed, it can be added again.
    add(store, buyer, ItemRef::Course(item.id)).await;
}

/// Concurrent adds of one item keep one.
pub async fn concurrent_adds_of_one_item_keep_one<S: ShoppingStore>(store: &S) {
    let buyer = member(store).await;
    let item = ItemRef::Course(course(store, 100).await.id);
    let attempts = (0..10).map(|_| store.add_to_cart(new_line(buyer, item)));
    let outcomes = futures_util::future::join_all(attempts).await;
    let added = outcomes.iter().filter(|outcome| outcome.is_ok()).count();
    let refused = outcomes
        .iter()
        .filter(|outcome| **outcome == Err(AddToCartError::AlreadyInCart))
        .count();
    assert_eq!((added, refused), (1, 9), "{outcomes:?}");
    assert_eq!(cart_of(store, buyer).await.len(), 1);
}
