//! Storage of commerce: curricula (and, in their own files, the cart, orders, billing addresses,
//! checkouts and access grants). Every method is one transaction.

pub mod curricula;

pub use curricula::{
    CurriculumCourse, CurriculumDetail, CurriculumForSale, CurriculumQuery, CurriculumRepository,
    CurriculumUpdate, NewCurriculum, WriteCurriculumError,
};
