//! The commerce ports on PostgreSQL, one file per slice.
//!
//! Curricula ([`curricula`]): every write is one transaction that checks the listed courses with
//! `SELECT … FOR SHARE` (so a course cannot be soft-deleted between the check and the commit)
//! and writes the curriculum and its ordered `curriculum_courses` rows; reads take the course
//! ids in order in the same statement (`ARRAY(… ORDER BY position)`); the list is newest first
//! on the partial index of curricula that are not deleted, searched on the GIN index of the
//! generated tsvector.

mod curricula;
