//! The last active administrator: no update takes their access away, also when several
//! administrators are removed at once. These cases count every administrator in the store, so
//! each needs a store of its own (the suite's macro builds one per case).

use super::{AccountStore, insert};
use crate::support::{now, tag};
use futures_util::future::join_all;
use reserva_application::ports::accounts::{
    RevokeSessions, UserChanges, UserQuery, UserWriteError,
};
use reserva_domain::accounts::{Role, UserId};
use reserva_domain::paging::PageLimit;

const DEMOTE: UserChanges = UserChanges {
    username: None,
    password_hash: None,
    role: Some(Role::Member),
    is_active: None,
};

const DEACTIVATE: UserChanges = UserChanges {
    username: None,
    password_hash: None,
    role: None,
    is_active: Some(false),
};

async fn active_admins<S: AccountStore>(store: &S) -> Vec<UserId> {
    let query = UserQuery {
        role: Some(Role::Admin),
        search: None,
        before: None,
        limit: PageLimit::new(100).unwrap_or_default(),
    };
    let Ok(admins) = store.list_users(&query).await else {
        panic!("list_users failed")
    };
    admins
        .into_iter()
        .filter(|user| user.is_active)
        .map(|user| user.id)
        .collect()
}

async fn update<S: AccountStore>(
    store: &S,
    id: UserId,
    changes: &UserChanges,
) -> Result<(), UserWriteError> {
    store
        .update_user(id, changes, RevokeSessions::None, now())
        .await
        .map(drop)
}

/// The only active administrator can be neither demoted nor deactivated, and nothing changes;
/// with a second one, one of them can; an inactive administrator does not count.
pub async fn the_last_active_admin_keeps_access<S: AccountStore>(store: &S) {
    let first = insert(store, &format!("adm{}", tag()), Role::Admin).await;
    for changes in [DEMOTE, DEACTIVATE] {
        assert_eq!(
            update(store, first.id, &changes).await,
            Err(UserWriteError::LastAdmin)
        );
    }
    assert_eq!(store.find_user(first.id).await, Ok(Some(first.clone())));
    let member = insert(store, &format!("mem{}", tag()), Role::Member).await;
    assert_eq!(update(store, member.id, &DEACTIVATE).await, Ok(()));

    let second = insert(store, &format!("adm{}", tag()), Role::Admin).await;
    let third = insert(store, &format!("adm{}", tag()), Role::Admin).await;
    assert_eq!(update(store, third.id, &DEACTIVATE).await, Ok(()));
    assert_eq!(update(store, first.id, &DEMOTE).await, Ok(()));
    assert_eq!(
        update(store, second.id, &DEACTIVATE).await,
        Err(UserWriteError::LastAdmin),
        "the deactivated administrator does not count"
    );
    assert_eq!(active_admins(store).await, [second.id]);
}

/// Every administrator removed at once, half demoted and half deactivated: exactly one keeps
/// access, whichever the store decides last.
pub async fn concurrent_removals_leave_one_active_admin<S: AccountStore>(store: &S) {
    let mut admins = Vec::new();
    for _ in 0..6 {
        admins.push(
            insert(store, &format!("adm{}", tag()), Role::Admin)
                .await
                .id,
        );
    }
    let removals = admins.iter().enumerate().map(|(index, id)| {
        let changes = if index % 2 == 0 { DEMOTE } else { DEACTIVATE };
        async move { update(store, *id, &changes).await }
    });
    let results = join_all(removals).await;
    let refused: Vec<usize> = (0..results.len())
        .filter(|index| results[*index] == Err(UserWriteError::LastAdmin))
        .collect();
    assert_eq!(refused.len(), 1, "{results:?}");
    assert_eq!(
        results.iter().filter(|result| result.is_ok()).count(),
        admins.len() - 1,
        "{results:?}"
    );
    assert_eq!(active_admins(store).await, [admins[refused[0]]]);
}
