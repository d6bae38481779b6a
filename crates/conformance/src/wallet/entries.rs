//! A wallet's entries: newest first, each with the balance right after it, paged by sequence.

use super::{assert_ledger_clean, charge_of, post};
use crate::support::user_id;
use reserva_application::ports::wallet::WalletRepository;
use reserva_domain::paging::PageLimit;
use reserva_domain::wallet::TransferKind;

/// Five charges read back three at a time, newest first; another wallet's entries never show.
pub async fn entries_are_newest_first_and_paged_by_sequence<S: WalletRepository>(store: &S) {
    let (user, other) = (user_id(), user_id());
    let mut posted = Vec::new();
    for amount in 1..=5 {
        posted.push(post(store, charge_of(user, amount * 100)).await);
        post(store, charge_of(other, 1)).await;
    }
    let limit = PageLimit::new(2).unwrap_or_else(|e| panic!("{e}"));
    let page = store
        .entries(user, None, limit)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let seen: Vec<_> = page
        .iter()
        .map(|e| (e.transfer_id, e.amount, e.balance_after.get(), e.kind))
        .collect();
    let expected = |index: usize| {
        let charge = posted
            .get(index)
            .unwrap_or_else(|| panic!("no charge {index}"));
        (
            charge.transfer.id,
            charge.transfer.amount.get(),
            charge.balance_after.get(),
            TransferKind::Charge,
        )
    };
    assert_eq!(seen, [expected(4), expected(3), expected(2)], "limit + 1");
    let sequences: Vec<_> = page.iter().map(|e| e.sequence).collect();
    assert!(sequences.windows(2).all(|w| w[0] > w[1]), "{sequences:?}");
    let created: Vec<_> = page.iter().map(|e| e.created_at).collect();
    let cursor = page.get(1).map(|e| e.sequence);
    let next = store
        .entries(user, cursor, limit)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let seen: Vec<_> = next
        .iter()
        .map(|e| (e.transfer_id, e.amount, e.balance_after.get(), e.kind))
        .collect();
    assert_eq!(seen, [expected(2), expected(1), expected(0)]);
    assert!(created.iter().all(|c| *c <= crate::support::now()));
    let last = next.get(1).map(|e| e.sequence);
    let tail = store.entries(user, last, limit).await;
    assert_eq!(tail.map(|e| e.len()), Ok(1));
    assert_ledger_clean(store).await;
}
