//! Storage of commerce: curricula, the cart, orders, (in their own files) billing addresses,
//! checkouts, and access grants. Every method is one transaction.

pub mod access;
pub mod billing;
pub mod cart;
pub mod checkout;
pub mod curricula;
pub mod orders;

pub use curricula::{
    CurriculumCourse, CurriculumDetail, CurriculumForSale, CurriculumQuery, CurriculumRepository,
    CurriculumUpdate, NewCurriculum, WriteCurriculumError,
};
