//! Contracts of the commerce ports, one file per slice: curricula ([`curricula`]). Courses are
//! real catalog items and tutors real users, made through their own ports.

pub mod curricula;

use crate::accounts::AccountStore;
use reserva_application::ports::catalog::CatalogRepository;
use reserva_application::ports::commerce::CurriculumRepository;

/// What a commerce store is: the commerce ports, the catalog whose courses they sell, and the
/// users they belong to, in one store.
pub trait CommerceStore: CurriculumRepository + CatalogRepository + AccountStore {}
impl<T: CurriculumRepository + CatalogRepository + AccountStore + ?Sized> CommerceStore for T {}

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
                ],
            }
        }
    };
}
