//! Request and response bodies of the wallet endpoints. Amounts are whole KRW.

use reserva_application::ports::wallet::PostedCharge;
use reserva_application::time::format_instant;
use reserva_domain::exams::BusinessZone;
use reserva_domain::wallet::{LedgerEntry, Money, TransferKind};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// The only currency.
const CURRENCY: &str = "KRW";

/// `GET /wallet`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct BalanceResponse {
    /// What the wallet holds.
    #[schema(example = 120_000)]
    pub balance: i64,
    /// Always `KRW`.
    #[schema(example = "KRW")]
    pub currency: &'static str,
}

impl BalanceResponse {
    pub(crate) const fn new(balance: Money) -> Self {
        Self {
            balance: balance.get(),
            currency: CURRENCY,
        }
    }
}

/// `POST /wallet/charges`. Serialize gives the canonical form an idempotency key is bound to.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChargeRequest {
    /// 1 to 1,000,000; the balance may not exceed 10,000,000.
    #[schema(example = 50_000)]
    pub amount: i64,
}

/// A posted charge.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ChargeResponse {
    /// The charge's transfer; with an `Idempotency-Key`, derived from it, so a retry finds it.
    pub transfer_id: Uuid,
    /// What was added.
    pub amount: i64,
    /// The balance right after it.
    pub balance: i64,
    /// When it was posted.
    pub created_at: String,
}

impl ChargeResponse {
    pub(crate) fn new(posted: &PostedCharge, zone: BusinessZone) -> Self {
        Self {
            transfer_id: posted.transfer.id.as_uuid(),
            amount: posted.transfer.amount.get(),
            balance: posted.balance_after.get(),
            created_at: format_instant(posted.transfer.created_at, zone),
        }
    }
}

/// Why money moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum TransferKindDto {
    /// Money added to the wallet.
    Charge,
    /// A seat paid for.
    Payment,
    /// A payment given back (a cancelled performance).
    Refund,
}

impl From<TransferKind> for TransferKindDto {
    fn from(kind: TransferKind) -> Self {
        match kind {
            TransferKind::Charge => Self::Charge,
            TransferKind::Payment => Self::Payment,
            TransferKind::Refund => Self::Refund,
        }
    }
}

/// One change of the balance.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TransactionResponse {
    /// The transfer.
    pub transfer_id: Uuid,
    /// Why.
    pub kind: TransferKindDto,
    /// Positive when money came in, negative when it went out.
    #[schema(example = -50_000)]
    pub amount: i64,
    /// The balance right after it.
    pub balance_after: i64,
    /// When.
    pub created_at: String,
}

impl TransactionResponse {
    pub(crate) fn new(entry: &LedgerEntry, zone: BusinessZone) -> Self {
        Self {
            transfer_id: entry.transfer_id.as_uuid(),
            kind: entry.kind.into(),
            amount: entry.amount,
            balance_after: entry.balance_after.get(),
            created_at: format_instant(entry.created_at, zone),
        }
    }
}

/// A page of transactions.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TransactionPageResponse {
    /// Newest first.
    pub items: Vec<TransactionResponse>,
    /// Pass as `?cursor=` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}
