//! The catalog: tests and courses (the same shape; courses also name a category, a skill level
//! and a tutor), registrations for them (applied / enrolled → completed, or cancelled with a
//! refund) and the queries over them (available now, full-text search, newest or most popular).
//!
//! Paying for a registration is the wallet module's `payment` part: a payment is made through the
//! payment gateway or from the wallet, and a registration exists exactly when its payment is paid.

mod item;
mod query;
mod registration;

pub use item::{
    CatalogItem, Category, CourseDetails, InvalidDescription, InvalidItemTitle, InvalidPrice,
    InvalidSchedule, ItemDescription, ItemKind, ItemTitle, MAX_PRICE, Schedule, SkillLevel,
    UnknownName, price,
};
pub use query::{CatalogCursor, CatalogSort, InvalidSearch, SearchText};
pub use registration::{CancelRefusal, CompleteRefusal, Registration, RegistrationStatus};

typed_id!(
    /// Identifies a test or a course (one id space: the kind says which).
    ItemId
);
typed_id!(
    /// Identifies a registration (an application for a test, an enrolment in a course).
    RegistrationId
);
