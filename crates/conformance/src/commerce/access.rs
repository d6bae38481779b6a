//! Access contracts: a paid order opens each of its courses (a curriculum's included) for 730
//! days from payment, a refund withdraws it, and the reads are the condition of `has_access`.

use super::{ShoppingStore, bought, course, curriculum, member};
use crate::support::now;
use chrono::Duration;
use reserva_domain::commerce::ItemRef;

/// Paying grants every course of the order for 730 days.
pub async fn paying_grants_every_course_of_the_order_for_730_days<S: ShoppingStore>(store: &S) {
    let buyer = member(store).await;
    let (a, b) = (course(store, 1_000).await, course(store, 1_000).await);
    let bundle = curriculum(store, 1_500, &[a.id, b.id]).await;
    let paid_at = now();
    let order = bought(
        store,
        buyer,
        &[ItemRef::Course(a.id), ItemRef::Curriculum(bundle)],
        paid_at,
    )
    .await;
    store.pay_order(order.id, paid_at).await;
    let mut live = store
        .live_access(buyer, paid_at)
        .await
        .unwrap_or_else(|e| panic!("live_access: {e}"));
    live.sort_by_key(|access| access.grant.course_id);
    let mut expected = vec![
        (a.id, a.title.as_str().to_owned()),
        (b.id, b.title.as_str().to_owned()),
    ];
    expected.sort();
    assert_eq!(
        live.iter()
            .map(|access| (access.grant.course_id, access.title.clone()))
            .collect::<Vec<_>>(),
        expected,
        "a course in the order twice is granted once; granting again changes nothing"
    );
    for access in &live {
        assert_eq!(access.grant.order_id, order.id);
        assert_eq!(access.grant.granted_at, paid_at);
        assert_eq!(access.grant.expires_at, paid_at + Duration::days(730));
    }
    let has = |at| async move {
        store
            .has_access(buyer, b.id, at)
            .await
            .unwrap_or_else(|e| panic!("has_access: {e}"))
    };
    assert!(!has(paid_at - Duration::microseconds(1)).await);
    assert!(has(paid_at).await);
    assert!(has(paid_at + Duration::days(730) - Duration::microseconds(1)).await);
    assert!(!has(paid_at + Duration::days(730)).await);
    let later = store
        .live_access(buyer, paid_at + Duration::days(730))
        .await
        .unwrap_or_else(|e| panic!("live_access: {e}"));
    assert!(later.is_empty());
}

/// A refund withdraws the access.
pub async fn a_refund_withdraws_the_access<S: ShoppingStore>(store: &S) {
    let buyer = member(store).await;
    let item = course(store, 1_000).await;
    let order = bought(store, buyer, &[ItemRef::Course(item.id)], now()).await;
    assert_eq!(store.has_access(buyer, item.id, now()).await, Ok(true));
    store.refund_order(order.id, now()).await;
    assert_eq!(store.has_access(buyer, item.id, now()).await, Ok(false));
    let live = store
        .live_access(buyer, now())
        .await
        .unwrap_or_else(|e| panic!("live_access: {e}"));
    assert!(live.is_empty());
}

/// Access is the users own.
pub async fn access_is_the_users_own<S: ShoppingStore>(store: &S) {
    let buyer = member(store).await;
    let other = member(store).await;
    let item = course(store, 1_000).await;
    let unbought = course(store, 1_000).await;
    bought(store, buyer, &[ItemRef::Course(item.id)], now()).await;
    assert_eq!(store.has_access(other, item.id, now()).await, Ok(false));
    assert_eq!(store.has_access(buyer, unbought.id, now()).await, Ok(false));
    let theirs = store
        .live_access(other, now())
        .await
        .unwrap_or_else(|e| panic!("live_access: {e}"));
    assert!(theirs.is_empty());
}
