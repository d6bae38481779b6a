//! The billing-address use cases over a mocked store.

use super::*;
use crate::ports::commerce::billing::MockBillingAddressRepository;
use crate::ports::system::MockClock;
use chrono::{DateTime, TimeZone, Utc};
use reserva_domain::accounts::{Role, SessionId, UserId};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 3, 0, 0)
        .single()
        .unwrap_or_default()
}

fn principal() -> Principal {
    Principal {
        user_id: UserId::from_uuid(uuid::Uuid::now_v7()),
        session_id: SessionId::from_uuid(uuid::Uuid::now_v7()),
        role: Role::Member,
    }
}

fn id() -> BillingAddressId {
    BillingAddressId::from_uuid(uuid::Uuid::now_v7())
}

fn command() -> BillingAddressCommand {
    BillingAddressCommand {
        country: " 대한민국 ".into(),
        main_address: "서울특별시 강남구 테헤란로 152".into(),
        detail_address: None,
        postal_code: "06236".into(),
        is_default: None,
    }
}

fn stored(new: NewBillingAddress) -> BillingAddress {
    BillingAddress {
        id: new.id,
        user_id: new.user_id,
        fields: new.fields,
        is_default: new.is_default,
        created_at: new.now,
        updated_at: new.now,
    }
}

fn address(user: UserId) -> BillingAddress {
    BillingAddress {
        id: id(),
        user_id: user,
        fields: AddressFields {
            country: Country::parse("Korea").expect("valid"),
            main_address: MainAddress::parse("Teheran-ro 152").expect("valid"),
            detail_address: DetailAddress::parse("12F").expect("valid"),
            postal_code: PostalCode::parse("06236").expect("valid"),
        },
        is_default: true,
        created_at: now(),
        updated_at: now(),
    }
}

fn use_cases(addresses: MockBillingAddressRepository) -> BillingAddresses {
    let mut clock = MockClock::new();
    clock.expect_now().returning(now);
    BillingAddresses::new(BillingPorts {
        addresses: Arc::new(addresses),
        clock: Arc::new(clock),
    })
}

fn codes(error: &impl UseCaseError) -> Vec<(&'static str, &'static str)> {
    error
        .violations()
        .iter()
        .map(|violation| (violation.field, violation.code))
        .collect()
}

fn down() -> DependencyError {
    DependencyError::Unavailable("db".into())
}

#[tokio::test]
async fn a_new_address_is_stored_trimmed_with_the_cap_and_now() {
    let caller = principal();
    let mut store = MockBillingAddressRepository::new();
    store
        .expect_create_billing_address()
        .withf(move |new| {
            new.user_id == caller.user_id
                && new.fields.country.as_str() == "대한민국"
                && new.fields.detail_address.as_str().is_empty()
                && !new.is_default
                && new.limit == 20
                && new.now == now()
        })
        .times(1)
        .returning(|new| Ok(stored(new)));
    let created = use_cases(store)
        .create(&caller, command())
        .await
        .expect("created");
    assert_eq!(created.fields.postal_code.as_str(), "06236");
}

#[tokio::test]
async fn is_default_is_passed_as_asked() {
    let mut store = MockBillingAddressRepository::new();
    store
        .expect_create_billing_address()
        .withf(|new| new.is_default)
        .times(1)
        .returning(|new| Ok(stored(new)));
    let asked = BillingAddressCommand {
        is_default: Some(true),
        ..command()
    };
    let created = use_cases(store).create(&principal(), asked).await;
    assert!(created.expect("created").is_default);
}

#[tokio::test]
async fn every_broken_field_is_listed_and_nothing_is_stored() {
    let store = MockBillingAddressRepository::new();
    let broken = BillingAddressCommand {
        country: "a".repeat(51),
        main_address: "  ".into(),
        detail_address: Some("floor\u{200b}".into()),
        postal_code: "06236;".into(),
        is_default: Some(true),
    };
    let error = use_cases(store)
        .create(&principal(), broken)
        .await
        .expect_err("invalid");
    assert_eq!(
        (error.class(), error.code()),
        (ErrorClass::InvalidInput, "validation_failed")
    );
    assert_eq!(
        codes(&error),
        [
            ("country", "country_too_long"),
            ("main_address", "main_address_empty"),
            ("detail_address", "invisible_character"),
            ("postal_code", "postal_code_invalid"),
        ]
    );
}

#[tokio::test]
async fn create_refusals_keep_their_codes() {
    for (refusal, class, code) in [
        (
            CreateBillingAddressError::TooMany,
            ErrorClass::Conflict,
            "too_many_addresses",
        ),
        (
            CreateBillingAddressError::Dependency(down()),
            ErrorClass::Unavailable,
            "service_unavailable",
        ),
    ] {
        let mut store = MockBillingAddressRepository::new();
        store
            .expect_create_billing_address()
            .return_once(move |_| Err(refusal));
        let error = use_cases(store)
            .create(&principal(), command())
            .await
            .expect_err("refused");
        assert_eq!((error.class(), error.code()), (class, code));
        assert!(codes(&error).is_empty());
    }
}

#[tokio::test]
async fn the_list_is_the_callers_and_pages() {
    let caller = principal();
    let limit = PageLimit::new(2).expect("valid");
    let rows: Vec<_> = (0..3).map(|_| address(caller.user_id)).collect();
    let after = BillingAddressCursor::after(&rows[0]);
    let returned = rows.clone();
    let mut store = MockBillingAddressRepository::new();
    store
        .expect_billing_addresses()
        .withf(move |query| {
            query.user_id == caller.user_id && query.after == Some(after) && query.limit == limit
        })
        .return_once(move |_| Ok(returned));
    let page = use_cases(store)
        .list(&caller, Some(after), limit)
        .await
        .expect("page");
    assert_eq!(page.items, rows[..2]);
    assert_eq!(page.next, Some(BillingAddressCursor::after(&rows[1])));
}

#[tokio::test]
async fn the_list_reports_a_failed_store() {
    let mut store = MockBillingAddressRepository::new();
    store
        .expect_billing_addresses()
        .return_once(|_| Err(down()));
    let error = use_cases(store)
        .list(&principal(), None, PageLimit::DEFAULT)
        .await
        .expect_err("down");
    assert_eq!(error.class(), ErrorClass::Unavailable);
}

#[tokio::test]
async fn get_finds_the_callers_own_or_nothing() {
    let caller = principal();
    let mine = address(caller.user_id);
    let (wanted, found) = (mine.id, mine.clone());
    let mut store = MockBillingAddressRepository::new();
    store
        .expect_billing_address()
        .withf(move |user, asked| *user == caller.user_id && *asked == wanted)
        .return_once(move |_, _| Ok(Some(found)));
    assert_eq!(use_cases(store).get(&caller, mine.id).await, Ok(mine));

    let mut store = MockBillingAddressRepository::new();
    store.expect_billing_address().return_once(|_, _| Ok(None));
    let error = use_cases(store)
        .get(&principal(), id())
        .await
        .expect_err("absent");
    assert_eq!(
        (error.class(), error.code()),
        (ErrorClass::NotFound, "not_found")
    );
    let mut store = MockBillingAddressRepository::new();
    store
        .expect_billing_address()
        .return_once(|_, _| Err(down()));
    let error = use_cases(store)
        .get(&principal(), id())
        .await
        .expect_err("down");
    assert_eq!(error.class(), ErrorClass::Unavailable);
}

#[tokio::test]
async fn an_edit_sends_only_the_fields_sent_validated() {
    let caller = principal();
    let target = id();
    let mut store = MockBillingAddressRepository::new();
    store
        .expect_update_billing_address()
        .withf(move |user, asked, changes| {
            *user == caller.user_id
                && *asked == target
                && changes.country.is_none()
                && changes.main_address.is_none()
                && changes.detail_address.as_ref().map(DetailAddress::as_str) == Some("")
                && changes.postal_code.as_ref().map(PostalCode::as_str) == Some("SW1A 1AA")
                && changes.is_default == Some(true)
                && changes.now == now()
        })
        .times(1)
        .returning(move |user, _, _| Ok(address(user)));
    let edit = BillingAddressEdit {
        detail_address: Some(" ".into()),
        postal_code: Some(" SW1A 1AA".into()),
        is_default: Some(true),
        ..BillingAddressEdit::default()
    };
    assert!(use_cases(store).update(&caller, target, edit).await.is_ok());
}

#[tokio::test]
async fn a_broken_edit_lists_every_field_and_stores_nothing() {
    let store = MockBillingAddressRepository::new();
    let edit = BillingAddressEdit {
        country: Some(String::new()),
        main_address: Some("a".repeat(201)),
        detail_address: Some("a".repeat(201)),
        postal_code: Some("1\u{0}".into()),
        is_default: None,
    };
    let error = use_cases(store)
        .update(&principal(), id(), edit)
        .await
        .expect_err("invalid");
    assert_eq!(error.code(), "validation_failed");
    assert_eq!(
        codes(&error),
        [
            ("country", "country_empty"),
            ("main_address", "main_address_too_long"),
            ("detail_address", "detail_address_too_long"),
            ("postal_code", "control_character"),
        ]
    );
}

#[tokio::test]
async fn edit_refusals_keep_their_codes() {
    for (refusal, class, code) in [
        (
            UpdateBillingAddressError::NotFound,
            ErrorClass::NotFound,
            "not_found",
        ),
        (
            UpdateBillingAddressError::DefaultRequired,
            ErrorClass::Conflict,
            "default_required",
        ),
        (
            UpdateBillingAddressError::Dependency(down()),
            ErrorClass::Unavailable,
            "service_unavailable",
        ),
    ] {
        let mut store = MockBillingAddressRepository::new();
        store
            .expect_update_billing_address()
            .return_once(move |_, _, _| Err(refusal));
        let edit = BillingAddressEdit {
            is_default: Some(false),
            ..BillingAddressEdit::default()
        };
        let error = use_cases(store)
            .update(&principal(), id(), edit)
            .await
            .expect_err("refused");
        assert_eq!((error.class(), error.code()), (class, code));
        assert!(codes(&error).is_empty());
    }
}

#[tokio::test]
async fn delete_is_the_callers_own_at_now() {
    let caller = principal();
    let target = id();
    let mut store = MockBillingAddressRepository::new();
    store
        .expect_delete_billing_address()
        .withf(move |user, asked, at| *user == caller.user_id && *asked == target && *at == now())
        .times(1)
        .return_once(|_, _, _| Ok(true));
    assert_eq!(use_cases(store).delete(&caller, target).await, Ok(()));

    let mut store = MockBillingAddressRepository::new();
    store
        .expect_delete_billing_address()
        .return_once(|_, _, _| Ok(false));
    assert_eq!(
        use_cases(store).delete(&principal(), id()).await,
        Err(BillingAddressNotFoundError::NotFound)
    );
    let mut store = MockBillingAddressRepository::new();
    store
        .expect_delete_billing_address()
        .return_once(|_, _, _| Err(down()));
    let error = use_cases(store)
        .delete(&principal(), id())
        .await
        .expect_err("down");
    assert_eq!(
        (error.class(), error.code()),
        (ErrorClass::Unavailable, "service_unavailable")
    );
}
