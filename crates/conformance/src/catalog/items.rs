//! Items: create, read, edit within a scope, soft delete.

use super::{
    CatalogStore, PRICE, create, fund, list, member, money, new_course, new_test, open_around,
    paid_by_card, query, read, title, user,
};
use crate::support::{now, tag};
use chrono::Duration;
use reserva_application::ports::catalog::{
    BeginPaymentError, ItemScope, ItemUpdate, UpdateItemError,
};
use reserva_domain::accounts::Role;
use reserva_domain::catalog::{CatalogItem, CatalogSort, ItemDescription, ItemId, ItemKind};
use reserva_domain::wallet::{PaymentMethod, PaymentStatus};
use uuid::Uuid;

fn edit_of(item: &CatalogItem, new_title: &str, price: i64) -> ItemUpdate {
    ItemUpdate {
        title: title(new_title),
        description: Some(ItemDescription::parse("edited").unwrap_or_else(|e| panic!("{e}"))),
        price: money(price),
        schedule: open_around(now() + Duration::hours(1)),
        course: item.course,
        now: now(),
    }
}

/// A stored item reads back as created; an edit replaces its fields, and misses absent ids and
/// other kinds.
pub async fn items_round_trip_and_update<S: CatalogStore>(store: &S) {
    let tutor = user(store, Role::Tutor).await;
    let viewer = member(store).await;
    let test = new_test(&format!("Round trip {}", tag()), PRICE, now());
    let created = create(store, test.clone()).await;
    assert_eq!(created.id, test.id);
    assert_eq!(created.kind, ItemKind::Test);
    assert_eq!(created.title, test.title);
    assert_eq!(created.price, test.price);
    assert_eq!(created.schedule, test.schedule);
    assert_eq!(created.course, None);
    assert_eq!(created.registration_count, 0);
    assert_eq!(created.created_at, test.now);
    let listed = read(store, &created, viewer).await;
    assert_eq!(listed.item, created);
    assert!(!listed.is_registered);

    let course = create(store, new_course(&format!("Course {}", tag()), tutor)).await;
    assert_eq!(read(store, &course, viewer).await.item, course);
    assert!(course.course.is_some());
    // An id under the other kind is not found.
    let wrong_kind = store.item(ItemKind::Course, created.id, viewer).await;
    assert_eq!(wrong_kind, Ok(None));
    let absent = store
        .item(ItemKind::Test, ItemId::from_uuid(Uuid::now_v7()), viewer)
        .await;
    assert_eq!(absent, Ok(None));

    let edit = edit_of(&created, "Edited title", 45_000);
    let updated = store
        .update_item(ItemKind::Test, created.id, ItemScope::Any, edit.clone())
        .await
        .unwrap_or_else(|e| panic!("update_item: {e:?}"));
    assert_eq!(updated.title, edit.title);
    assert_eq!(updated.description, edit.description);
    assert_eq!(updated.price, edit.price);
    assert_eq!(updated.schedule, edit.schedule);
    assert_eq!(updated.updated_at, edit.now);
    assert_eq!(updated.created_at, created.created_at);
    assert_eq!(read(store, &created, viewer).await.item, updated);

    let missing = store
        .update_item(
            ItemKind::Test,
            ItemId::from_uuid(Uuid::now_v7()),
            ItemScope::Any,
            edit.clone(),
        )
        .await;
    assert_eq!(missing, Err(UpdateItemError::NotFound));
    let other_kind = store
        .update_item(ItemKind::Course, created.id, ItemScope::Any, edit)
        .await;
    assert_eq!(other_kind, Err(UpdateItemError::NotFound));
}

/// `TutoredBy` reaches only that tutor's courses: another tutor's course and any test are not
/// found.
pub async fn a_tutor_edits_only_their_own_courses<S: CatalogStore>(store: &S) {
    let owner = user(store, Role::Tutor).await;
    let other = user(store, Role::Tutor).await;
    let course = create(store, new_course(&format!("Owned {}", tag()), owner)).await;
    let test = create(
        store,
        new_test(&format!("Untaught {}", tag()), PRICE, now()),
    )
    .await;

    let refused = store
        .update_item(
            ItemKind::Course,
            course.id,
            ItemScope::TutoredBy(other),
            edit_of(&course, "Taken over", PRICE),
        )
        .await;
    assert_eq!(refused, Err(UpdateItemError::NotFound));
    let untaught = store
        .update_item(
            ItemKind::Test,
            test.id,
            ItemScope::TutoredBy(owner),
            edit_of(&test, "Not a course", PRICE),
        )
        .await;
    assert_eq!(untaught, Err(UpdateItemError::NotFound));
    assert_eq!(read(store, &course, owner).await.item, course);

    let mine = store
        .update_item(
            ItemKind::Course,
            course.id,
            ItemScope::TutoredBy(owner),
            edit_of(&course, "Still mine", PRICE + 100),
        )
        .await
        .unwrap_or_else(|e| panic!("update_item: {e:?}"));
    assert_eq!(mine.title.as_str(), "Still mine");
    assert_eq!(mine.course, course.course);

    let not_deleted = store
        .delete_item(
            ItemKind::Course,
            course.id,
            ItemScope::TutoredBy(other),
            now(),
        )
        .await;
    assert_eq!(not_deleted, Ok(false));
    assert!(
        store
            .item(ItemKind::Course, course.id, owner)
            .await
            .is_ok_and(|i| i.is_some())
    );
    let deleted = store
        .delete_item(
            ItemKind::Course,
            course.id,
            ItemScope::TutoredBy(owner),
            now(),
        )
        .await;
    assert_eq!(deleted, Ok(true));
}

/// A deleted item is gone from reads, lists and edits and refuses applies, but its payments stay
/// and still cancel.
pub async fn a_deleted_item_is_hidden_and_closed_but_its_payments_cancel<S: CatalogStore>(
    store: &S,
) {
    let buyer = member(store).await;
    let late = member(store).await;
    fund(store, late, PRICE).await;
    let item = create(store, new_test(&format!("Doomed {}", tag()), PRICE, now())).await;
    let settled = paid_by_card(store, buyer, &item).await;

    let deleted = store
        .delete_item(ItemKind::Test, item.id, ItemScope::Any, now())
        .await;
    assert_eq!(deleted, Ok(true));
    assert_eq!(store.item(ItemKind::Test, item.id, buyer).await, Ok(None));
    let listed = list(store, query(ItemKind::Test, buyer, CatalogSort::Created)).await;
    assert!(listed.iter().all(|l| l.item.id != item.id));
    let again = store
        .delete_item(ItemKind::Test, item.id, ItemScope::Any, now())
        .await;
    assert_eq!(again, Ok(false));
    let edit = store
        .update_item(
            ItemKind::Test,
            item.id,
            ItemScope::Any,
            edit_of(&item, "Ghost", PRICE),
        )
        .await;
    assert_eq!(edit, Err(UpdateItemError::NotFound));

    let gateway = store
        .begin_payment(super::intent(late, &item, PaymentMethod::Card))
        .await;
    assert_eq!(gateway, Err(BeginPaymentError::ItemNotFound));
    let wallet = store
        .pay_from_wallet(super::intent(late, &item, PaymentMethod::Wallet))
        .await;
    assert_eq!(wallet, Err(BeginPaymentError::ItemNotFound));
    assert_eq!(super::balance(store, late).await, PRICE);

    let shown = store.payment(buyer, settled.payment.id).await;
    assert!(
        shown.is_ok_and(|p| p.is_some()),
        "the payment stays visible"
    );
    let cancelled = store
        .cancel_payment(buyer, settled.payment.id, now())
        .await
        .unwrap_or_else(|e| panic!("cancel_payment: {e:?}"));
    assert_eq!(cancelled.payment.status, PaymentStatus::Cancelled);
    super::assert_clean(store).await;
}
