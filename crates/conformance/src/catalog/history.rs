//! The payment history: only the user's own paid and cancelled payments, filtered and paged.

use super::{
    CatalogStore, PRICE, begin, create, intent, member, new_course, new_test, open_test,
    payment_ids, payments_of, search, user,
};
use crate::support::{now, tag};
use chrono::{DateTime, Duration, Utc};
use reserva_application::ports::catalog::PaymentQuery;
use reserva_domain::accounts::{Role, UserId};
use reserva_domain::catalog::{CatalogItem, ItemKind};
use reserva_domain::wallet::{Payment, PaymentId, PaymentMethod, PaymentStatus};

/// A card payment of `item` by `buyer` settled at `paid_at`.
async fn paid_at<S: CatalogStore>(
    store: &S,
    buyer: UserId,
    item: &CatalogItem,
    at: DateTime<Utc>,
) -> Payment {
    let pending = begin(store, intent(buyer, item, PaymentMethod::Card)).await;
    store
        .settle_payment(pending.id, "ref", at)
        .await
        .unwrap_or_else(|e| panic!("settle_payment: {e:?}"))
        .payment
}

async fn cancel<S: CatalogStore>(store: &S, buyer: UserId, id: PaymentId) {
    store
        .cancel_payment(buyer, id, now())
        .await
        .unwrap_or_else(|e| panic!("cancel_payment: {e:?}"));
}

/// The history shows only the user's own paid and cancelled payments, with their registrations.
pub async fn history_shows_only_own_paid_and_cancelled_payments<S: CatalogStore>(store: &S) {
    let (buyer, other) = (member(store).await, member(store).await);
    let base = now() - Duration::hours(1);
    let items = [
        open_test(store, PRICE).await,
        open_test(store, PRICE).await,
        open_test(store, PRICE).await,
        open_test(store, PRICE).await,
    ];
    let [a, b, c, d] = &items;
    let kept = paid_at(store, buyer, a, base).await;
    let cancelled = paid_at(store, buyer, b, base + Duration::minutes(1)).await;
    cancel(store, buyer, cancelled.id).await;
    let pending = begin(store, intent(buyer, c, PaymentMethod::Card)).await;
    let failed = begin(store, intent(buyer, d, PaymentMethod::Card)).await;
    store
        .fail_payment(failed.id, now())
        .await
        .unwrap_or_else(|e| panic!("fail_payment: {e:?}"));
    let others = paid_at(store, other, a, base + Duration::minutes(2)).await;

    assert_eq!(
        payment_ids(store, payments_of(buyer)).await,
        [cancelled.id, kept.id]
    );
    assert_eq!(payment_ids(store, payments_of(other)).await, [others.id]);
    for id in [pending.id, failed.id, others.id] {
        assert_eq!(store.payment(buyer, id).await, Ok(None), "{id:?}");
    }
    let shown = store
        .payment(buyer, kept.id)
        .await
        .ok()
        .flatten()
        .unwrap_or_else(|| panic!("own paid payment"));
    assert_eq!(shown.0, kept);
    assert_eq!(shown.1.map(|r| r.payment_id), Some(kept.id));
    let listed = store
        .payments(payments_of(buyer))
        .await
        .unwrap_or_else(|e| panic!("payments: {e}"));
    assert!(
        listed
            .iter()
            .all(|(p, r)| r.as_ref().is_some_and(|r| r.payment_id == p.id))
    );
}

/// The history filters by status, kind, paid instant (from inclusive, before exclusive) and title
/// text (literal `%` and `_`).
pub async fn history_filters<S: CatalogStore>(store: &S) {
    let buyer = member(store).await;
    let tutor = user(store, Role::Tutor).await;
    let day = now() - Duration::days(5);
    let test = |text: &str| new_test(text, PRICE, now());
    let percent = create(store, test(&format!("Intro 100% Rust {}", tag()))).await;
    let digits = create(store, test(&format!("Intro 1000 Rust {}", tag()))).await;
    let snake = create(store, test(&format!("snake_case names {}", tag()))).await;
    let camel = create(store, test(&format!("SnakeXcase names {}", tag()))).await;
    let course = create(
        store,
        new_course(&format!("Course of intro {}", tag()), tutor),
    )
    .await;
    let p_percent = paid_at(store, buyer, &percent, day).await;
    let p_digits = paid_at(store, buyer, &digits, day + Duration::days(1)).await;
    let p_snake = paid_at(store, buyer, &snake, day + Duration::days(2)).await;
    let p_camel = paid_at(store, buyer, &camel, day + Duration::days(3)).await;
    let p_course = paid_at(store, buyer, &course, day + Duration::days(4)).await;
    cancel(store, buyer, p_digits.id).await;
    cancel(store, buyer, p_course.id).await;
    let all = payments_of(buyer);
    let with = |query: PaymentQuery| payment_ids(store, query);

    assert_eq!(
        with(PaymentQuery {
            status: Some(PaymentStatus::Paid),
            ..all.clone()
        })
        .await,
        [p_camel.id, p_snake.id, p_percent.id]
    );
    assert_eq!(
        with(PaymentQuery {
            status: Some(PaymentStatus::Cancelled),
            ..all.clone()
        })
        .await,
        [p_course.id, p_digits.id]
    );
    assert_eq!(
        with(PaymentQuery {
            kind: Some(ItemKind::Course),
            ..all.clone()
        })
        .await,
        [p_course.id]
    );
    assert_eq!(
        with(PaymentQuery {
            kind: Some(ItemKind::Test),
            status: Some(PaymentStatus::Cancelled),
            ..all.clone()
        })
        .await,
        [p_digits.id]
    );
    // paid_from is inclusive, paid_before exclusive.
    assert_eq!(
        with(PaymentQuery {
            paid_from: Some(day + Duration::days(1)),
            paid_before: Some(day + Duration::days(3)),
            ..all.clone()
        })
        .await,
        [p_snake.id, p_digits.id]
    );
    assert_eq!(
        with(PaymentQuery {
            paid_from: Some(day + Duration::days(1) + Duration::microseconds(1)),
            paid_before: Some(day + Duration::days(3) + Duration::microseconds(1)),
            ..all.clone()
        })
        .await,
        [p_camel.id, p_snake.id]
    );
    // The title contains the text, in any case, with % and _ literal.
    let titled = |text: &str| PaymentQuery {
        search: Some(search(text)),
        ..all.clone()
    };
    assert_eq!(with(titled("100%")).await, [p_percent.id]);
    assert_eq!(with(titled("e_c")).await, [p_snake.id]);
    assert_eq!(with(titled("SNAKE")).await, [p_camel.id, p_snake.id]);
    assert_eq!(
        with(titled("intro")).await,
        [p_course.id, p_digits.id, p_percent.id]
    );
    assert_eq!(with(titled("%")).await, [p_percent.id]);
    assert_eq!(with(titled("_")).await, [p_snake.id]);
    assert_eq!(with(titled("' OR 1=1 --")).await, Vec::<PaymentId>::new());
    assert_eq!(
        with(PaymentQuery {
            status: Some(PaymentStatus::Paid),
            ..titled("intro")
        })
        .await,
        [p_percent.id]
    );
}

/// The history pages by `(paid_at, id)` descending without skipping or repeating.
pub async fn history_pages_by_keyset<S: CatalogStore>(store: &S) {
    let buyer = member(store).await;
    let base = now() - Duration::days(1);
    let mut paid = Vec::new();
    // Pairs share a paid_at: the id breaks the tie, descending.
    for offset in [0, 0, 1, 2, 2, 3, 4] {
        let item = open_test(store, PRICE).await;
        paid.push(paid_at(store, buyer, &item, base + Duration::minutes(offset)).await);
    }
    paid.sort_by_key(|p| std::cmp::Reverse((p.paid_at, p.id.as_uuid())));
    let expected: Vec<_> = paid.iter().map(|p| p.id).collect();
    let full = payment_ids(store, payments_of(buyer)).await;
    assert_eq!(full, expected);
    let mut seen = Vec::new();
    let mut after = None;
    for _ in 0..10 {
        let page = store
            .payments(PaymentQuery {
                after,
                limit: super::limit(2),
                ..payments_of(buyer)
            })
            .await
            .unwrap_or_else(|e| panic!("payments: {e}"));
        assert!(page.len() <= 3);
        seen.extend(page.iter().take(2).map(|(p, _)| p.id));
        if page.len() <= 2 {
            break;
        }
        after = page
            .get(1)
            .and_then(|(p, _)| p.paid_at.map(|at| (at, p.id)));
        // A payment arriving meanwhile is newer than every row: before the cursor.
        let item = open_test(store, PRICE).await;
        paid_at(store, buyer, &item, now()).await;
    }
    assert_eq!(seen, expected);
}
