//! What a transaction body returns when it fails: a refusal the port names (not found, status
//! changed, capacity exceeded, e-mail taken), or the database itself, which each dialect
//! classifies its own way.

use diesel::result::Error as QueryError;
use reserva_application::DependencyError;
use reserva_domain::exams::CapacityError;

/// A failed transaction: `Refused` with the port's error, or a `Query` error to classify.
#[derive(Debug)]
pub enum TxError<Refusal> {
    /// A rule refused the change; nothing was written.
    Refused(Refusal),
    /// The database failed.
    Query(QueryError),
}

impl<Refusal> TxError<Refusal> {
    /// The port's error: a refusal as it is, a database error as `classify` says.
    pub fn into_refusal(self, classify: impl FnOnce(QueryError) -> Refusal) -> Refusal {
        match self {
            Self::Refused(refusal) => refusal,
            Self::Query(error) => classify(error),
        }
    }
}

impl<Refusal> From<QueryError> for TxError<Refusal> {
    fn from(error: QueryError) -> Self {
        Self::Query(error)
    }
}

impl<Refusal: From<DependencyError>> From<DependencyError> for TxError<Refusal> {
    fn from(error: DependencyError) -> Self {
        Self::Refused(Refusal::from(error))
    }
}

impl<Refusal: From<CapacityError>> From<CapacityError> for TxError<Refusal> {
    fn from(error: CapacityError) -> Self {
        Self::Refused(Refusal::from(error))
    }
}
