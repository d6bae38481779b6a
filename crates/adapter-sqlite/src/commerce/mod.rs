//! The commerce ports on SQLite, one file per slice.
//!
//! Curricula ([`curricula`]): every write is one `BEGIN IMMEDIATE` transaction, so no other
//! writer runs between the check of the listed courses and the write of the curriculum and its
//! ordered `curriculum_courses` rows; reads are one snapshot, the course ids in order read with
//! `group_concat(… ORDER BY position)`; search is the FTS5 table `curricula_search`, queried as
//! the catalog's is (each word quoted).

mod curricula;
