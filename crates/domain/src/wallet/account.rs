//! Ledger accounts and transfers' identity.

use super::PaymentMethod;
use crate::accounts::UserId;
use crate::catalog::ItemId;
use crate::tickets::ConcertId;
use uuid::Uuid;

typed_id!(
    /// Identifies a transfer. Doubles as its idempotency key (as in TigerBeetle): a transfer id
    /// is either random or derived from what must happen at most once (a client's
    /// `Idempotency-Key`, a hold being paid, a booking being refunded), and the store refuses a
    /// second transfer with the same id.
    TransferId
);

/// The namespace of derived transfer ids (a fixed random UUID; changing it would let a retry of
/// an earlier request move money twice).
const TRANSFER_NAMESPACE: Uuid = Uuid::from_u128(0x6f1c_2a8e_5b7d_4c3a_9e0f_1d2b_3c4a_5e6f);

impl TransferId {
    /// The id of the transfer that `purpose` (for example `charge`) with `key` may make at most
    /// once: the same inputs always give the same id (UUID v5).
    #[must_use]
    pub fn derive(purpose: &str, scope: Uuid, key: &str) -> Self {
        let name = format!("{purpose}\u{1f}{scope}\u{1f}{key}");
        Self(Uuid::new_v5(&TRANSFER_NAMESPACE, name.as_bytes()))
    }
}

/// Where revenue is booked: one account per thing sold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RevenueStream {
    /// Ticket sales of one concert.
    Concert(ConcertId),
    /// Registrations for one test or course.
    CatalogItem(ItemId),
    /// Every commerce order paid at checkout: one account (its owner is the nil UUID). System
    /// accounts keep no balance, so sharing it makes no hot row.
    Commerce,
}

/// An account of the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LedgerAccount {
    /// A user's prepaid wallet; its balance never goes below zero.
    UserWallet(UserId),
    /// Where charged money comes from (the outside world: card, bank). Its balance is the
    /// negative of everything ever charged minus withdrawn, so it is the one account allowed to
    /// go below zero.
    Funding,
    /// Where payments go.
    Revenue(RevenueStream),
    /// A payment method of the gateway (card, KakaoPay, bank transfer): where gateway payments
    /// come from and refunds go back to. Like funding, it keeps no balance (it is the outside
    /// world); the wallet method has no such account.
    Provider(PaymentMethod),
}

impl LedgerAccount {
    /// The stored kind: `user_wallet`, `funding`, `concert_revenue`, `catalog_revenue`,
    /// `commerce_revenue` or `provider_<method>`.
    #[must_use]
    pub const fn kind(self) -> &'static str {
        match self {
            Self::UserWallet(_) => "user_wallet",
            Self::Funding => "funding",
            Self::Revenue(RevenueStream::Concert(_)) => "concert_revenue",
            Self::Revenue(RevenueStream::CatalogItem(_)) => "catalog_revenue",
            Self::Revenue(RevenueStream::Commerce) => "commerce_revenue",
            Self::Provider(PaymentMethod::Card) => "provider_card",
            Self::Provider(PaymentMethod::Kakaopay) => "provider_kakaopay",
            Self::Provider(PaymentMethod::BankTransfer) => "provider_bank_transfer",
            // never built: the wallet is not a provider (see `Provider`)
            Self::Provider(PaymentMethod::Wallet) => "provider_wallet",
        }
    }

    /// The owner (user, concert or item) as a UUID; the nil UUID for funding, providers and
    /// commerce revenue.
    #[must_use]
    pub const fn owner(self) -> Uuid {
        match self {
            Self::UserWallet(user) => user.as_uuid(),
            Self::Funding | Self::Provider(_) | Self::Revenue(RevenueStream::Commerce) => {
                Uuid::nil()
            }
            Self::Revenue(RevenueStream::Concert(concert)) => concert.as_uuid(),
            Self::Revenue(RevenueStream::CatalogItem(item)) => item.as_uuid(),
        }
    }

    /// Reads an account back from its kind and owner; `None` for an unknown kind.
    #[must_use]
    pub fn from_parts(kind: &str, owner: Uuid) -> Option<Self> {
        match kind {
            "user_wallet" => Some(Self::UserWallet(UserId::from_uuid(owner))),
            "funding" => Some(Self::Funding),
            "concert_revenue" => Some(Self::Revenue(RevenueStream::Concert(ConcertId::from_uuid(
                owner,
            )))),
            "catalog_revenue" => Some(Self::Revenue(RevenueStream::CatalogItem(
                ItemId::from_uuid(owner),
            ))),
            "commerce_revenue" => Some(Self::Revenue(RevenueStream::Commerce)),
            _ => kind
                .strip_prefix("provider_")
                .and_then(PaymentMethod::parse)
                .filter(|method| method.uses_gateway())
                .map(Self::Provider),
        }
    }

    /// Whether the ledger keeps (and guards) a running balance: user wallets. System accounts'
    /// balances are derived from their entries, so no single row is written by every charge or
    /// every payment of a concert.
    #[must_use]
    pub const fn keeps_balance(self) -> bool {
        matches!(self, Self::UserWallet(_))
    }
}

/// Why money moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransferKind {
    /// Funding → user wallet.
    Charge,
    /// User wallet or provider → revenue.
    Payment,
    /// Revenue → user wallet or provider (a cancelled performance, a cancelled registration).
    Refund,
}

impl TransferKind {
    /// The stored and shown name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Charge => "charge",
            Self::Payment => "payment",
            Self::Refund => "refund",
        }
    }

    /// Reads a stored name back.
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        [Self::Charge, Self::Payment, Self::Refund]
            .into_iter()
            .find(|kind| kind.as_str() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_ids_are_stable_and_distinct() {
        let user = Uuid::now_v7();
        let a = TransferId::derive("charge", user, "key-1");
        assert_eq!(a, TransferId::derive("charge", user, "key-1"));
        assert_ne!(a, TransferId::derive("charge", user, "key-2"));
        assert_ne!(a, TransferId::derive("charge", Uuid::now_v7(), "key-1"));
        assert_ne!(a, TransferId::derive("payment", user, "key-1"));
        // the separator keeps "a" + "bc" apart from "ab" + "c"
        assert_ne!(
            TransferId::derive("x", user, "a\u{1f}b"),
            TransferId::derive("x\u{1f}a", user, "b")
        );
    }

    #[test]
    fn accounts_round_trip_through_their_parts() {
        let user = UserId::from_uuid(Uuid::now_v7());
        let concert = ConcertId::from_uuid(Uuid::now_v7());
        for account in [
            LedgerAccount::UserWallet(user),
            LedgerAccount::Funding,
            LedgerAccount::Revenue(RevenueStream::Concert(concert)),
            LedgerAccount::Revenue(RevenueStream::CatalogItem(
                ItemId::from_uuid(Uuid::now_v7()),
            )),
            LedgerAccount::Revenue(RevenueStream::Commerce),
            LedgerAccount::Provider(PaymentMethod::Card),
            LedgerAccount::Provider(PaymentMethod::Kakaopay),
            LedgerAccount::Provider(PaymentMethod::BankTransfer),
        ] {
            assert_eq!(
                LedgerAccount::from_parts(account.kind(), account.owner()),
                Some(account)
            );
        }
        assert_eq!(LedgerAccount::from_parts("bank", Uuid::nil()), None);
        assert_eq!(
            LedgerAccount::from_parts("provider_wallet", Uuid::nil()),
            None
        );
        assert!(!LedgerAccount::Provider(PaymentMethod::Card).keeps_balance());
        assert!(LedgerAccount::UserWallet(user).keeps_balance());
        assert!(!LedgerAccount::Funding.keeps_balance());
    }

    #[test]
    fn kinds_round_trip() {
        for kind in [
            TransferKind::Charge,
            TransferKind::Payment,
            TransferKind::Refund,
        ] {
            assert_eq!(TransferKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(TransferKind::parse("gift"), None);
    }
}
