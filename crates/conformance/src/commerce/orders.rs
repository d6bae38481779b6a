//! Order contracts: from the cart (snapshotted, the cart emptied) or direct, one pending order
//! per user (a new one cancels the old, under a race too), the 50,000 limit on both paths with
//! nothing written on a refusal, and the reads.

use super::{
    ShoppingStore, add, bought, cart_of, course, curriculum, member, money, new_order, order,
    reread,
};
use crate::support::now;
use chrono::Duration;
use reserva_application::ports::catalog::{ItemScope, ItemUpdate};
use reserva_application::ports::commerce::orders::{OrderQuery, OrderSource, PlaceOrderError};
use reserva_domain::catalog::{ItemId, ItemKind};
use reserva_domain::commerce::{ItemRef, OrderStatus};
use reserva_domain::paging::PageLimit;
use uuid::Uuid;

/// An order from the cart snapshots its items and empties the cart.
pub async fn an_order_from_the_cart_snapshots_its_items_and_empties_the_cart<S: ShoppingStore>(
    store: &S,
) {
    let buyer = member(store).await;
    let single = course(store, 10_000).await;
    let inside = course(store, 8_000).await;
    let bundle = curriculum(store, 15_000, &[inside.id]).await;
    add(store, buyer, ItemRef::Course(single.id)).await;
    let line = add(store, buyer, ItemRef::Curriculum(bundle)).await;
    let at = now();
    let placed = store
        .place_order(new_order(buyer, OrderSource::Cart, at))
        .await
        .unwrap_or_else(|e| panic!("place_order: {e:?}"));
    assert_eq!(placed.status, OrderStatus::Pending);
    assert_eq!(placed.user_id, buyer);
    assert_eq!(placed.total, money(25_000));
    assert_eq!((placed.created_at, placed.updated_at), (at, at));
    let lines: Vec<_> = placed
        .items
        .iter()
        .map(|item| (item.item, item.title.clone(), item.price))
        .collect();
    assert_eq!(
        lines,
        [
            (
                ItemRef::Course(single.id),
                single.title.as_str().to_owned(),
                money(10_000)
            ),
            (ItemRef::Curriculum(bundle), line.title, money(15_000)),
        ]
    );
    assert!(cart_of(store, buyer).await.is_empty());
    // A later price change leaves the order as it was made.
    store
        .update_item(
            ItemKind::Course,
            single.id,
            ItemScope::Any,
            ItemUpdate {
                title: single.title.clone(),
                description: None,
                price: money(1),
                schedule: single.schedule,
                course: single.course,
                now: now(),
            },
        )
        .await
        .unwrap_or_else(|e| panic!("update_item: {e}"));
    assert_eq!(reread(store, buyer, placed.id).await, placed);
}

/// An empty cart is refused.
pub async fn an_empty_cart_is_refused<S: ShoppingStore>(store: &S) {
    let buyer = member(store).await;
    assert_eq!(
        store
            .place_order(new_order(buyer, OrderSource::Cart, now()))
            .await,
        Err(PlaceOrderError::CartEmpty)
    );
    // A cart whose only item was deleted holds nothing to buy.
    let item = course(store, 100).await;
    add(store, buyer, ItemRef::Course(item.id)).await;
    store
        .delete_item(ItemKind::Course, item.id, ItemScope::Any, now())
        .await
        .unwrap_or_else(|e| panic!("delete_item: {e}"));
    assert_eq!(
        store
            .place_order(new_order(buyer, OrderSource::Cart, now()))
            .await,
        Err(PlaceOrderError::CartEmpty)
    );
    assert_eq!(
        store.pending_order(buyer).await.map(|o| o.is_some()),
        Ok(false)
    );
}

/// A new order cancels the pending one.
pub async fn a_new_order_cancels_the_pending_one<S: ShoppingStore>(store: &S) {
    let buyer = member(store).await;
    let item = ItemRef::Course(course(store, 100).await.id);
    let first = order(store, buyer, &[item]).await;
    let second = order(store, buyer, &[item]).await;
    let first = reread(store, buyer, first.id).await;
    assert_eq!(first.status, OrderStatus::Cancelled);
    assert!(first.cancelled_at.is_some());
    let pending = store
        .pending_order(buyer)
        .await
        .unwrap_or_else(|e| panic!("pending_order: {e}"));
    assert_eq!(pending, Some(second));
    // Another user's pending order is untouched.
    let other = member(store).await;
    let theirs = order(store, other, &[item]).await;
    order(store, buyer, &[item]).await;
    assert_eq!(
        reread(store, other, theirs.id).await.status,
        OrderStatus::Pending
    );
}

/// The total limit holds on both paths and a refusal writes nothing.
pub async fn the_total_limit_holds_on_both_paths_and_a_refusal_writes_nothing<S: ShoppingStore>(
    store: &S,
) {
    let buyer = member(store).await;
    let big = course(store, 30_000).await;
    let rest = course(store, 20_000).await;
    let one_more = course(store, 20_001).await;
    let exactly = order(
        store,
        buyer,
        &[ItemRef::Course(big.id), ItemRef::Course(rest.id)],
    )
    .await;
    assert_eq!(exactly.total, money(50_000));
    let over = [ItemRef::Course(big.id), ItemRef::Course(one_more.id)];
    assert_eq!(
        store
            .place_order(new_order(buyer, OrderSource::Items(over.to_vec()), now()))
            .await,
        Err(PlaceOrderError::TotalExceeded {
            total: money(50_001)
        })
    );
    for item in over {
        add(store, buyer, item).await;
    }
    assert_eq!(
        store
            .place_order(new_order(buyer, OrderSource::Cart, now()))
            .await,
        Err(PlaceOrderError::TotalExceeded {
            total: money(50_001)
        })
    );
    // Nothing changed: the pending order stays pending, the cart keeps its items.
    assert_eq!(reread(store, buyer, exactly.id).await, exactly);
    assert_eq!(cart_of(store, buyer).await.len(), 2);
}

/// Direct items must exist and not be owned.
pub async fn direct_items_must_exist_and_not_be_owned<S: ShoppingStore>(store: &S) {
    let buyer = member(store).await;
    let owned = course(store, 100).await;
    bought(store, buyer, &[ItemRef::Course(owned.id)], now()).await;
    let fresh = ItemRef::Course(course(store, 100).await.id);
    let missing = ItemRef::Course(ItemId::from_uuid(Uuid::now_v7()));
    assert_eq!(
        store
            .place_order(new_order(
                buyer,
                OrderSource::Items(vec![fresh, missing]),
                now()
            ))
            .await,
        Err(PlaceOrderError::ItemNotFound(missing))
    );
    let bundle = ItemRef::Curriculum(curriculum(store, 100, &[owned.id]).await);
    for item in [ItemRef::Course(owned.id), bundle] {
        assert_eq!(
            store
                .place_order(new_order(
                    buyer,
                    OrderSource::Items(vec![fresh, item]),
                    now()
                ))
                .await,
            Err(PlaceOrderError::AlreadyOwned(item))
        );
    }
}

/// Orders page newest first and filter by status.
pub async fn orders_page_newest_first_and_filter_by_status<S: ShoppingStore>(store: &S) {
    let buyer = member(store).await;
    let item = ItemRef::Course(course(store, 100).await.id);
    let mut placed = Vec::new();
    for minutes in 0..5 {
        let at = now() + Duration::minutes(minutes);
        let made = store
            .place_order(new_order(buyer, OrderSource::Items(vec![item]), at))
            .await
            .unwrap_or_else(|e| panic!("place_order: {e:?}"));
        placed.push(made.id);
    }
    order(store, member(store).await, &[item]).await;
    let page = |status, after| OrderQuery {
        user_id: buyer,
        status,
        after,
        limit: PageLimit::new(2).unwrap_or_else(|e| panic!("{e}")),
    };
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let rows = store
            .orders(page(None, after))
            .await
            .unwrap_or_else(|e| panic!("orders: {e}"));
        assert!(rows.len() <= 3, "at most limit + 1 rows");
        let kept: Vec<_> = rows.iter().take(2).collect();
        seen.extend(kept.iter().map(|order| order.id));
        if rows.len() <= 2 {
            break;
        }
        after = kept.last().map(|order| (order.created_at, order.id));
    }
    placed.reverse();
    assert_eq!(seen, placed);
    let pending = store
        .orders(page(Some(OrderStatus::Pending), None))
        .await
        .unwrap_or_else(|e| panic!("orders: {e}"));
    assert_eq!(
        pending.iter().map(|o| o.id).collect::<Vec<_>>(),
        [placed[0]]
    );
    let cancelled = store
        .orders(page(Some(OrderStatus::Cancelled), None))
        .await
        .unwrap_or_else(|e| panic!("orders: {e}"));
    assert_eq!(cancelled.len(), 3, "two on the page and one more");
    assert!(cancelled.iter().all(|o| o.status == OrderStatus::Cancelled));
}

/// Ten concurrent orders of one user are all placed — the user's lock puts them in sequence,
/// so none fails on `orders_one_pending` — and exactly one is left pending.
pub async fn concurrent_orders_leave_exactly_one_pending<S: ShoppingStore>(store: &S) {
    let buyer = member(store).await;
    let item = ItemRef::Course(course(store, 100).await.id);
    let attempts =
        (0..10).map(|_| store.place_order(new_order(buyer, OrderSource::Items(vec![item]), now())));
    let outcomes = futures_util::future::join_all(attempts).await;
    for outcome in &outcomes {
        assert!(outcome.is_ok(), "{outcome:?}");
    }
    let placed = outcomes.len();
    let all = store
        .orders(OrderQuery {
            user_id: buyer,
            status: None,
            after: None,
            limit: PageLimit::MAX_PAGE,
        })
        .await
        .unwrap_or_else(|e| panic!("orders: {e}"));
    assert_eq!(all.len(), placed);
    let pending = all
        .iter()
        .filter(|order| order.status == OrderStatus::Pending)
        .count();
    assert_eq!(pending, 1, "{all:#?}");
}
