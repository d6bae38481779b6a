//! Commerce: curricula (courses sold together as one item), and what selling them needs.
//!
//! A curriculum is a named, priced, ordered list of catalog courses; its category and skill level
//! are the catalog's own ([`crate::catalog::Category`], [`crate::catalog::SkillLevel`]), its
//! description and price follow the catalog items' rules.

mod curricula;

pub use curricula::{
    CourseList, Curriculum, CurriculumCursor, CurriculumName, InvalidCourseList,
    InvalidCurriculumName, InvalidPriceRange, PriceRange,
};

typed_id!(
    /// Identifies a curriculum.
    CurriculumId
);
