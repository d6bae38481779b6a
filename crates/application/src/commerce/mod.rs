//! Commerce use cases: curricula (managed by admins and their own tutors, read by every user),
//! and, in their own files, the cart, orders, billing addresses, checkout and access.

mod curricula;

pub use curricula::{
    Curricula, CurriculaPorts, CurriculumChanges, CurriculumCommand, CurriculumEditError,
    CurriculumPage, GetCurriculumError, ListCurricula, ListCurriculaError,
};
