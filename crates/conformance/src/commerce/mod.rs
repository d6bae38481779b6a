//! Contracts of the commerce ports, one file per slice: curricula ([`curricula`]), the cart
//! ([`cart`]), orders ([`orders`]), course access ([`access`]) and the checkout with its
//! refunds and receipts ([`checkout`]), races included. Courses are
//! real catalog items, curricula made through their port and users real rows; paid and refunded
//! orders come from the test-only [`fixtures::CommerceFixtures`] until the checkout makes them.

pub mod access;
pub mod billing;
pub mod cart;
pub mod checkout;
pub mod curricula;
pub mod fixtures;
pub mod orders;

use crate::accounts::AccountStore;
use crate::support::{new_user, now, tag};
use chrono::{DateTime, Duration, Utc};
use fixtures::CommerceFixtures;
use reserva_application::ports::catalog::{CatalogRepository, ItemScope, NewItem};
use reserva_application::ports::commerce::CurriculumRepository;
use reserva_application::ports::commerce::NewCurriculum;
use reserva_application::ports::commerce::access::AccessRepository;
use reserva_application::ports::commerce::cart::{CartRepository, NewCartItem};
use reserva_application::ports::commerce::orders::{NewOrder, OrderRepository, OrderSource};
use reserva_domain::accounts::{Role, UserId};
use reserva_domain::catalog::{
    CatalogItem, Category, CourseDetails, ItemId, ItemKind, ItemTitle, Schedule, SkillLevel,
};
use reserva_domain::commerce::{
    CART_ITEM_LIMIT, CartItemId, CartLine, CourseList, CurriculumId, CurriculumName, ItemRef,
    Order, OrderId,
};
use reserva_domain::wallet::Money;
use uuid::Uuid;

/// What a commerce store is: the commerce ports, the catalog whose courses they sell, and the
/// users they belong to, in one store.
pub trait CommerceStore: CurriculumRepository + CatalogRepository + AccountStore {}
impl<T: CurriculumRepository + CatalogRepository + AccountStore + ?Sized> CommerceStore for T {}

/// What the cart, order and access cases need: a commerce store with carts, orders and access,
/// and the test-only fixtures.
pub trait ShoppingStore:
    CommerceStore + CartRepository + OrderRepository + AccessRepository + CommerceFixtures
{
}
impl<
    T: CommerceStore + CartRepository + OrderRepository + AccessRepository + CommerceFixtures + ?Sized,
> ShoppingStore for T
{
}

fn money(amount: i64) -> Money {
    Money::new(amount).unwrap_or_else(|e| panic!("{e}"))
}

async fn user<S: ShoppingStore>(store: &S, role: Role) -> UserId {
    match store
        .insert_user(new_user(&format!("com{}", tag()), role))
        .await
    {
        Ok(user) => user.id,
        Err(error) => panic!("insert_user: {error}"),
    }
}

async fn member<S: ShoppingStore>(store: &S) -> UserId {
    user(store, Role::Member).await
}

fn new_item(kind: ItemKind, title: &str, price: i64, tutor: UserId) -> NewItem {
    NewItem {
        id: ItemId::from_uuid(Uuid::now_v7()),
        kind,
        title: ItemTitle::parse(title).unwrap_or_else(|e| panic!("{e}")),
        description: None,
        price: money(price),
        schedule: Schedule::new(now() - Duration::days(1), now() + Duration::days(30))
            .unwrap_or_else(|e| panic!("{e}")),
        course: (kind == ItemKind::Course).then_some(CourseDetails {
            category: Category::Python,
            skill_level: SkillLevel::Beginner,
            tutor_id: tutor,
        }),
        now: now(),
    }
}

/// A course at `price` (with its own new tutor).
async fn course<S: ShoppingStore>(store: &S, price: i64) -> CatalogItem {
    let tutor = user(store, Role::Tutor).await;
    let title = format!("Course {}", tag());
    store
        .create_item(new_item(ItemKind::Course, &title, price, tutor))
        .await
        .unwrap_or_else(|e| panic!("create_item: {e}"))
}

/// A test (not a course: commerce does not sell it) at `price`.
async fn test_item<S: ShoppingStore>(store: &S, price: i64) -> CatalogItem {
    let tutor = user(store, Role::Tutor).await;
    let title = format!("Test {}", tag());
    store
        .create_item(new_item(ItemKind::Test, &title, price, tutor))
        .await
        .unwrap_or_else(|e| panic!("create_item: {e}"))
}

/// A curriculum of `courses` at `price`.
async fn curriculum<S: ShoppingStore>(store: &S, price: i64, courses: &[ItemId]) -> CurriculumId {
    let tutor = user(store, Role::Tutor).await;
    let id = CurriculumId::from_uuid(Uuid::now_v7());
    store
        .create_curriculum(
            ItemScope::Any,
            NewCurriculum {
                id,
                name: CurriculumName::parse(&format!("Curriculum {}", tag()))
                    .unwrap_or_else(|e| panic!("{e}")),
                description: None,
                price: money(price),
                category: Category::Python,
                skill_level: SkillLevel::Beginner,
                tutor_id: tutor,
                courses: CourseList::new(courses.to_vec()).unwrap_or_else(|e| panic!("{e}")),
                now: now(),
            },
        )
        .await
        .unwrap_or_else(|e| panic!("create_curriculum: {e:?}"));
    id
}

fn new_line(user: UserId, item: ItemRef) -> NewCartItem {
    NewCartItem {
        id: CartItemId::from_uuid(Uuid::now_v7()),
        user_id: user,
        item,
        limit: CART_ITEM_LIMIT,
        now: now(),
    }
}

/// Adds `item` to `user`'s cart, failing the case if it is refused.
async fn add<S: ShoppingStore>(store: &S, user: UserId, item: ItemRef) -> CartLine {
    store
        .add_to_cart(new_line(user, item))
        .await
        .unwrap_or_else(|e| panic!("add_to_cart: {e:?}"))
}

async fn cart_of<S: ShoppingStore>(store: &S, user: UserId) -> Vec<CartLine> {
    store
        .cart(user)
        .await
        .unwrap_or_else(|e| panic!("cart: {e}"))
}

fn new_order(user: UserId, source: OrderSource, at: DateTime<Utc>) -> NewOrder {
    NewOrder {
        id: OrderId::from_uuid(Uuid::now_v7()),
        user_id: user,
        source,
        now: at,
    }
}

/// Places an order of `items` now, failing the case if it is refused.
async fn order<S: ShoppingStore>(store: &S, user: UserId, items: &[ItemRef]) -> Order {
    store
        .place_order(new_order(user, OrderSource::Items(items.to_vec()), now()))
        .await
        .unwrap_or_else(|e| panic!("place_order: {e:?}"))
}

/// `user` orders `items` and pays at `paid_at`: access from then for 730 days.
async fn bought<S: ShoppingStore>(
    store: &S,
    user: UserId,
    items: &[ItemRef],
    paid_at: DateTime<Utc>,
) -> Order {
    let placed = order(store, user, items).await;
    store.pay_order(placed.id, paid_at).await;
    placed
}

async fn reread<S: ShoppingStore>(store: &S, user: UserId, id: OrderId) -> Order {
    store
        .order(user, id)
        .await
        .unwrap_or_else(|e| panic!("order: {e}"))
        .unwrap_or_else(|| panic!("order {id} not found"))
}

/// The registered commerce-store cases by file, listed once: [`crate::commerce_store_tests!`]
/// expands them and the registration check compares them with the case files.
#[doc(hidden)]
#[macro_export]
macro_rules! __commerce_store_cases {
    ($callback:path, $($args:tt)*) => {
        $callback! {
            $($args)*
            commerce {
                curricula: [
                    curricula_round_trip_with_their_courses_in_order,
                    unknown_test_or_deleted_courses_are_refused_and_nothing_is_written,
                    edits_replace_fields_and_courses_within_the_scope,
                    a_deleted_curriculum_is_hidden_but_kept_for_history,
                    search_is_the_and_of_plain_words,
                    filters_by_category_level_and_inclusive_price,
                    keyset_pages_neither_skip_nor_repeat_while_rows_arrive,
                    concurrent_edits_leave_one_whole_course_list,
                    a_tutor_links_only_the_courses_they_teach,
                    the_tutor_is_checked_in_the_write,
                    concurrent_edits_of_different_fields_all_hold,
                ],
            }
        }
    };
}

/// The registered commerce cart/order/access cases by file, listed once:
/// [`crate::commerce_orders_store_tests!`] expands them and the registration check compares them
/// with the case files.
#[doc(hidden)]
#[macro_export]
macro_rules! __commerce_orders_store_cases {
    ($callback:path, $($args:tt)*) => {
        $callback! {
            $($args)*
            commerce {
                cart: [
                    a_cart_shows_current_titles_and_prices_oldest_first,
                    an_item_is_in_a_cart_once,
                    unknown_deleted_and_non_course_items_are_not_found,
                    owned_items_are_refused_and_a_curriculum_is_owned_when_every_course_is,
                    the_cart_holds_at_most_its_limit,
                    hidden_lines_of_deleted_items_do_not_fill_the_cart,
                    a_line_is_removed_by_its_owner_only,
                    concurrent_adds_of_one_item_keep_one,
                ],
                orders: [
                    an_order_from_the_cart_snapshots_its_items_and_empties_the_cart,
                    an_empty_cart_is_refused,
                    a_new_order_cancels_the_pending_one,
                    the_total_limit_holds_on_both_paths_and_a_refusal_writes_nothing,
                    direct_items_must_exist_and_not_be_owned,
                    orders_page_newest_first_and_filter_by_status,
                    concurrent_orders_leave_exactly_one_pending,
                ],
                access: [
                    paying_grants_every_course_of_the_order_for_730_days,
                    a_refund_withdraws_the_access,
                    access_is_the_users_own,
                ],
            }
        }
    };
}

/// The registered checkout cases, listed once: [`crate::commerce_checkout_store_tests!`] expands
/// them and the registration check compares them with the case file.
#[doc(hidden)]
#[macro_export]
macro_rules! __commerce_checkout_store_cases {
    ($callback:path, $($args:tt)*) => {
        $callback! {
            $($args)*
            commerce {
                checkout: [
                    a_checkout_opens_ready_on_the_order_total,
                    open_refusals_write_nothing,
                    the_billing_address_is_copied_at_checkout,
                    a_second_checkout_supersedes_the_first,
                    concurrent_checkouts_of_one_order_leave_one_ready,
                    an_approval_pays_grants_and_posts_one_transfer,
                    one_callback_delivered_ten_times_at_once_takes_effect_once,
                    cancels_and_failures,
                    an_approval_that_cannot_pay_is_refunded_automatically,
                    refunds_inside_the_window_only,
                    refunds_need_the_owners_paid_order,
                    ten_refunds_of_one_order_at_once_refund_once,
                    an_approval_racing_a_new_order_of_its_course_sells_it_once,
                    a_refund_racing_the_approval_refunds_or_is_refused,
                    overdue_ready_payments_expire,
                    receipts_list_paid_and_refunded_newest_first,
                ],
            }
        }
    };
}
